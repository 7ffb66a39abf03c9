// The seed's three routes on Hono with cloakroom/hono: the same user model (../seed/users.js), bcrypt check,
// `c.var.session.userId = user._id` at login (the ticket is rotated), a requireAuth middleware, destroy at logout.
import { Hono } from "hono";
import { session } from "cloakroom/hono";
import bcrypt from "bcryptjs";
import { User } from "../seed/users.js";

export const app = new Hono();

app.use(session({
  secret: process.env.SESSION_SECRET ?? "random-secret", // Used to sign the session ID cookie
  cookie: { httpOnly: true }, // Prevents JavaScript from accessing the cookie
}));

app.post("/login", async (c) => {
  const body = await c.req.json().catch(() => ({}));
  const user = await User.findOne({ email: body.email });
  if (!user || !(await bcrypt.compare(String(body.password ?? ""), user.password))) {
    return c.text("Invalid credentials", 401);
  }
  // store identity in server-side session
  c.var.session.userId = user._id;
  return c.text("Logged in");
});

async function requireAuth(c, next) {
  if (!c.var.session.userId) return c.text("Not authenticated", 401);
  await next();
}

app.get("/dashboard", requireAuth, (c) => c.text("Protected route"));

app.post("/logout", async (c) => {
  await c.var.session.destroy();
  return c.text("Logged out");
});
