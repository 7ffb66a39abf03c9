/** The whole stylesheet: small, readable on a phone, no build step. Served at /assets/app.css. */
export const APP_CSS = `*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430;background:#f5f6f8}
.top{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between;padding:.75rem 1rem;background:#1d2430}
.top a,.top a:visited,.top .link{color:#fff;text-decoration:none;margin-right:.75rem}
.brand{font-weight:700}
nav{display:flex;flex-wrap:wrap;align-items:center}
main{max-width:44rem;margin:1.5rem auto;padding:0 1rem}
h1{font-size:1.6rem;margin:.5rem 0 1rem}
a{color:#2457c5}a:visited{color:#2457c5}
.card>:first-child{margin-top:0}
form.card,section.card{background:#fff;border:1px solid #d9dde3;border-radius:8px;padding:1rem 1.25rem;margin-bottom:1rem}
label{display:block;margin:.75rem 0 .25rem;font-weight:600}
label.check{font-weight:400;display:flex;gap:.5rem;align-items:center}
[hidden]{display:none!important}
input[type=email],input[type=password],input[type=text]{width:100%;padding:.6rem;border:1px solid #aab2bd;border-radius:6px;font:inherit}
button{font:inherit;padding:.55rem 1rem;border:0;border-radius:6px;background:#2457c5;color:#fff;cursor:pointer;margin-top:1rem}
button.danger{background:#b3261e}
button.link{background:none;padding:0;margin:0;text-decoration:underline}
form.inline{display:inline;margin:0}
.error{background:#fdecea;border:1px solid #f5c2bd;color:#8a1c14;padding:.6rem .8rem;border-radius:6px}
.notice{background:#e8f4ea;border:1px solid #b9dcc0;color:#1e5b2b;padding:.6rem .8rem;border-radius:6px}
.hint{color:#5b6573;font-size:.9rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
ul.sessions{list-style:none;padding:0;margin:0}
ul.sessions li{background:#fff;border:1px solid #d9dde3;border-radius:8px;padding:1rem 1.25rem;margin-bottom:1rem}
.or{text-align:center;color:#5b6573;margin:.5rem 0}
.badge{display:inline-block;background:#2457c5;color:#fff;border-radius:999px;padding:0 .5rem;font-size:.8rem;margin-left:.5rem}
`;
