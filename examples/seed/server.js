// Run the seed app: `node examples/seed/server.js`, then follow examples/seed/README.md.
import { app } from "./app.js";

const port = Number(process.env.PORT ?? 3000);
app.listen(port, "127.0.0.1", () => console.log(`seed example on http://127.0.0.1:${port}`));
