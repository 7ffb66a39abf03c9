// The seed's Express app, verbatim but for two imports: `express-session` → `cloakroom/express`, and
// `bcrypt` → `bcryptjs` (same API, no native build). The model is ./users.js.
import express from "express";
import session from "cloakroom/express";
import bcrypt from "bcryptjs";
import { User } from "./users.js";

export const app = express();
app.use(express.json());
app.use(express.urlencoded({ extended: false }));

app.use(session({
  secret: process.env.SESSION_SECRET ?? "random-secret", // Used to sign the session ID cookie
  resave: false, // Prevents unnecessary session saves
  saveUninitialized: false, // Avoids storing empty sessions
  cookie: { httpOnly: true } // Prevents JavaScript from accessing the cookie
}));

app.post("/login", async (req, res) => {
  const user = await User.findOne({
    email: req.body.email
  });
  if (!user)
    return res.status(401).send("Invalid credentials");
  const isValid = await bcrypt.compare(
    req.body.password,
    user.password
  );
  if (!isValid)
    return res.status(401).send("Invalid credentials");
  // store identity in server-side session
  req.session.userId = user._id;
  res.send("Logged in");
});

function requireAuth(req, res, next) {
  if (!req.session.userId) {
    return res
      .status(401)
      .send("Not authenticated");
  }
  next();
}

app.get("/dashboard", requireAuth, (req, res) => {
  res.send("Protected route");
});

app.post("/logout", (req, res) => {
  req.session.destroy(() => {
    res.send("Logged out");
  });
});
