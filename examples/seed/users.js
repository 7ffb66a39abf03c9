// A tiny stand-in for the seed's `User` model: one demo user whose password is bcrypt-hashed, as in the seed.
import bcrypt from "bcryptjs";

export const DEMO_EMAIL = "demo@example.com";
export const DEMO_PASSWORD = "correct horse battery staple";

const users = [{ _id: "6650f1c2a1b2c3d4e5f60718", email: DEMO_EMAIL, password: bcrypt.hashSync(DEMO_PASSWORD, 10) }];

export const User = {
  /** Mongoose-style lookup by exact field match. */
  async findOne(query) {
    return users.find((u) => Object.entries(query).every(([k, v]) => u[k] === v)) ?? null;
  },
};
