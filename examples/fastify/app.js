// The seed's three routes on Fastify with cloakroom/fastify: the same user model (../seed/users.js), bcrypt check,
// `request.session.userId = user._id` at login (the ticket is rotated), a requireAuth preHandler, destroy at logout.
import Fastify from "fastify";
import cloakroom from "cloakroom/fastify";
import bcrypt from "bcryptjs";
import { User } from "../seed/users.js";

export async function buildApp() {
  const app = Fastify();
  await app.register(cloakroom, {
    secret: process.env.SESSION_SECRET ?? "random-secret", // Used to sign the session ID cookie
    cookie: { httpOnly: true }, // Prevents JavaScript from accessing the cookie
  });

  app.post("/login", async (request, reply) => {
    const user = await User.findOne({ email: request.body?.email });
    if (!user || !(await bcrypt.compare(String(request.body?.password ?? ""), user.password))) {
      return reply.code(401).send("Invalid credentials");
    }
    // store identity in server-side session
    request.session.userId = user._id;
    return "Logged in";
  });

  async function requireAuth(request, reply) {
    if (!request.session.userId) return reply.code(401).send("Not authenticated");
  }

  app.get("/dashboard", { preHandler: requireAuth }, async () => "Protected route");

  app.post("/logout", async (request) => {
    await request.session.destroy();
    return "Logged out";
  });
  return app;
}
