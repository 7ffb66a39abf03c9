/**
 * How a session is bound to Express's `req` and `res` without adding properties to them.
 *
 * Express swaps the prototypes of `req` and `res` on every request (`Object.setPrototypeOf(req, app.request)`), which
 * takes them off V8's shared hidden-class transitions: every property added afterwards builds a fresh hidden class
 * (measured: ~20k instructions each, against ~900k for a whole bare Express request). So `req.session`,
 * `req.sessionID` and `req.sessionStore` are accessors defined once on the prototype chain, reading this request's
 * {@link Binding} from a WeakMap, and `res.writeHead`/`res.end` are intercepted once on the response prototype.
 * A bare `http.createServer` request (no Express prototype) gets plain own properties and per-response wrappers.
 *
 * Where the binding lives: in a slot on the request's socket (one object per connection, reused by each request it
 * carries), not in a WeakMap keyed by req/res. A WeakMap entry whose value leads back to its key (the binding holds the
 * session, the session its request, Express's `next` its req and res) makes V8's young-generation collector keep the
 * whole finished request alive until the next full collection: measured with --trace-gc-nvp, such entries promoted
 * ~2.7 kB more per request and ran 23 % more mark-compacts. The slot is overwritten by the connection's next request,
 * so a finished request's objects die young. A request that arrives while its connection is still answering an earlier
 * one (HTTP pipelining), or has no socket, falls back to the WeakMaps. The binding of a finished request stays readable
 * (`req.session` in an on-finished logger) until its connection carries the next request.
 *
 * The accessors are installed on the prototype just above `http.IncomingMessage.prototype` / `ServerResponse.prototype`
 * (Express's shared `request`/`response` objects), so they hold in mounted sub-apps too, whose prototypes inherit from
 * it. A request that no cloakroom middleware bound sees them as absent: reads give `undefined`, and an assignment
 * (another session library, a test) defines a plain own property as if the accessor were not there.
 */
import { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";

/** One request's session binding, read by the prototype accessors and the response interceptors. */
export interface Binding {
  /** What `req.session` answers (the app may set it to null or another object). */
  session: unknown;
  /** The session object the engine tracks for this request (regenerate() replaces it). */
  current: unknown;
  /** What `req.sessionID` answers. */
  sessionID: unknown;
  /** What `req.sessionStore` answers. */
  sessionStore: unknown;
  /** The response side: called before headers go out and on the first res.end (null until the middleware binds it). */
  response: ResponseHooks | null;
}

/** What the middleware does when the response's headers go out, and when it ends. */
export interface ResponseHooks {
  /** Headers are about to be written (writeHead); `args` are writeHead's own. */
  beforeHeaders(res: ServerResponse, args: IArguments): unknown[] | IArguments;
  /** The first res.end: return true when it took over (it calls `end` itself later), false to let it through. */
  end(res: ServerResponse, end: EndFunction, args: IArguments): boolean;
}

export type EndFunction = (this: ServerResponse, ...args: unknown[]) => ServerResponse;
type WriteHeadFunction = (this: ServerResponse, ...args: unknown[]) => ServerResponse;

/** The fallbacks (a pipelined request, a request without a socket): see the file comment. */
const requests = new WeakMap<object, Binding>();
const responses = new WeakMap<object, Binding>();

const SLOT = Symbol("cloakroom.binding");
/** A connection's slot: the binding of the request it carries now (or carried last, once `open` is false). */
interface SocketSlot {
  req: object | null;
  res: object | null;
  binding: Binding | null;
  /** The response of `req` has not ended yet. */
  open: boolean;
}
type SlotHolder = { [SLOT]?: SocketSlot } | null | undefined;

/**
 * The request and the response bound last, with their bindings: the accessors and interceptors check them first. An
 * identity comparison, where the lookup through `req.socket` (or `res.req.socket`) is a property load on an object
 * whose prototype Express swapped, which V8 serves from its megamorphic stub cache or its runtime: measured ~1.5k
 * instructions per load. They hold only what the socket slot holds too (the newest request, until the next one).
 */
let lastRequest: object | null = null;
let lastRequestBinding: Binding | undefined;
let lastResponse: object | null = null;
let lastResponseBinding: Binding | undefined;
let lastResponseSlot: SocketSlot | undefined;
/** The slot bindRequest claimed for `lastRequest` (`null`: it went to the WeakMap). */
let lastClaimedSlot: SocketSlot | null = null;

/** The binding of a request, if a cloakroom middleware bound it. */
export function bindingOf(req: object): Binding | undefined {
  if (req === lastRequest) return lastRequestBinding;
  return lookUpRequest(req);
}

/** @param socket `req.socket`, when the caller has loaded it already */
function lookUpRequest(req: object, socket: unknown = (req as { socket?: unknown }).socket): Binding | undefined {
  const slot = (socket as SlotHolder)?.[SLOT];
  if (slot !== undefined && slot.req === req) return slot.binding!;
  return requests.get(req);
}

/** The slot of a response's connection (through `res.req`, which Node sets), if it has one. */
function slotOfResponse(res: object): SocketSlot | undefined {
  return (res as { req?: { socket?: SlotHolder } }).req?.socket?.[SLOT];
}

/** The binding of a response, if a cloakroom middleware bound it. */
function responseBindingOf(res: object): Binding | undefined {
  if (res === lastResponse) return lastResponseBinding;
  return lookUpResponse(res);
}

function lookUpResponse(res: object): Binding | undefined {
  const slot = slotOfResponse(res);
  if (slot !== undefined && slot.res === res) return slot.binding!;
  return responses.get(res);
}

/** Put `binding` in the slot of `req`'s connection (`socket`); `null` when it cannot go there (no socket, pipelined). */
function claimSlot(req: object, binding: Binding, socket: unknown): SocketSlot | null {
  if (!(socket instanceof Socket)) return null;
  const holder = socket as { [SLOT]?: SocketSlot };
  const slot = holder[SLOT];
  if (slot === undefined) return (holder[SLOT] = { req, res: null, binding, open: true });
  if (slot.open) return null;
  slot.req = req;
  slot.res = null;
  slot.binding = binding;
  slot.open = true;
  return slot;
}

/** The response of a bound request has ended: its connection's slot may take the next request. */
export function releaseResponse(res: object): void {
  const slot = res === lastResponse ? lastResponseSlot : slotOfResponse(res);
  if (slot !== undefined && slot.res === res) slot.open = false;
}

const REQUEST_PROPERTIES = ["session", "sessionID", "sessionStore"] as const;

function installRequestAccessors(proto: object): void {
  for (const name of REQUEST_PROPERTIES) {
    Object.defineProperty(proto, name, {
      configurable: true,
      enumerable: false,
      get(this: object): unknown {
        const binding = bindingOf(this);
        return binding === undefined ? undefined : binding[name];
      },
      set(this: object, value: unknown): void {
        const binding = bindingOf(this);
        if (binding !== undefined) binding[name] = value;
        else Object.defineProperty(this, name, { value, writable: true, enumerable: true, configurable: true });
      },
    });
  }
}

/** The response prototype's interceptors, defined once; they find this response's binding in the WeakMap. */
function installResponseInterceptors(proto: object, parent: object): void {
  const writeHead = Reflect.get(parent, "writeHead") as WriteHeadFunction;
  const end = Reflect.get(parent, "end") as EndFunction;
  Object.defineProperty(proto, "writeHead", {
    configurable: true,
    writable: true,
    value: function writeHead_(this: ServerResponse): ServerResponse {
      const hooks = responseBindingOf(this)?.response;
      // eslint-disable-next-line prefer-rest-params -- pass the caller's arguments through exactly
      return writeHead.apply(this, (hooks ? hooks.beforeHeaders(this, arguments) : arguments) as unknown[]);
    },
  });
  Object.defineProperty(proto, "end", {
    configurable: true,
    writable: true,
    value: function end_(this: ServerResponse): ServerResponse {
      const hooks = responseBindingOf(this)?.response;
      // eslint-disable-next-line prefer-rest-params -- pass the caller's arguments through exactly
      if (hooks && hooks.end(this, end, arguments)) return this;
      // eslint-disable-next-line prefer-rest-params -- as above
      return end.apply(this, arguments as unknown as unknown[]);
    },
  });
  installedResponseProtos.add(proto);
  interceptedWriteHead.add(Reflect.get(proto, "writeHead") as WriteHeadFunction);
  interceptedEnd.add(Reflect.get(proto, "end") as EndFunction);
}

const installedResponseProtos = new WeakSet<object>();
const interceptedWriteHead = new WeakSet<WriteHeadFunction>();
const interceptedEnd = new WeakSet<EndFunction>();

/**
 * The prototype just above `root` in `object`'s chain (Express's shared request or response object), or `null`
 * when `object` inherits from `root` directly (a bare http server) or not at all.
 */
function sharedPrototypeOf(object: object, root: object): object | null {
  let proto = Object.getPrototypeOf(object) as object | null;
  if (proto === root) return null;
  while (proto !== null) {
    const parent = Object.getPrototypeOf(proto) as object | null;
    if (parent === root) return proto;
    proto = parent;
  }
  return null;
}

/** Direct prototypes (an app's `request` / `response`) known to inherit the accessors: checked once each. */
const preparedRequestProtos = new WeakSet<object>();
const preparedResponseProtos = new WeakSet<object>();
let lastRequestProto: object | null = null;
let lastResponseProto: object | null = null;

/** Whether `req`'s prototype chain carries the accessors (installing them on first sight). */
function requestUsesAccessors(req: object): boolean {
  const direct = Object.getPrototypeOf(req) as object | null;
  if (direct !== null && direct === lastRequestProto) return true;
  if (direct !== null && preparedRequestProtos.has(direct)) {
    lastRequestProto = direct;
    return true;
  }
  const shared = sharedPrototypeOf(req, IncomingMessage.prototype);
  if (shared === null || direct === null) return false;
  if (!Object.prototype.hasOwnProperty.call(shared, "sessionStore")) installRequestAccessors(shared);
  preparedRequestProtos.add(direct);
  lastRequestProto = direct;
  return true;
}

/** Whether `res`'s prototype chain carries the interceptors (installing them on first sight). */
function responseUsesInterceptors(res: object): boolean {
  const direct = Object.getPrototypeOf(res) as object | null;
  if (direct === null) return false;
  if (direct !== lastResponseProto && !preparedResponseProtos.has(direct)) {
    const shared = sharedPrototypeOf(res, ServerResponse.prototype);
    if (shared === null) return false;
    if (!installedResponseProtos.has(shared)) installResponseInterceptors(shared, ServerResponse.prototype);
    preparedResponseProtos.add(direct);
  }
  lastResponseProto = direct;
  return true;
}

/**
 * What `req.session` shows, without the property load through Express's swapped prototype where it can: an own
 * property (a bare http server, another session library), else this module's binding, which is what the prototype
 * accessor would answer. `socket` is `req.socket`, which the middleware loads once for all its uses.
 */
export function shownSession(req: object, socket: unknown): unknown {
  if (Object.prototype.hasOwnProperty.call(req, "session")) return (req as { session?: unknown }).session;
  const binding = req === lastRequest ? lastRequestBinding : lookUpRequest(req, socket);
  if (binding !== undefined) return binding.session;
  return requestUsesAccessors(req) ? undefined : (req as { session?: unknown }).session;
}

/**
 * Bind a session to a request: through the prototype accessors when Express's prototypes are there, as own properties
 * otherwise (a bare http server). The binding's `session`, `sessionID` and `sessionStore` are what the request shows.
 * @param socket `req.socket`, loaded once by the middleware
 * @returns true when they are own properties of `req`
 */
export function bindRequest(req: object, binding: Binding, socket: unknown): boolean {
  const slot = claimSlot(req, binding, socket);
  if (slot === null) requests.set(req, binding);
  // What the lookup answers from now on (the first binding of a request wins, as in the slot).
  lastRequest = null;
  lastRequestBinding = slot !== null ? binding : lookUpRequest(req, socket);
  lastRequest = req;
  lastClaimedSlot = slot;
  if (requestUsesAccessors(req)) return false;
  const target = req as Record<string, unknown>;
  target.session = binding.session;
  target.sessionID = binding.sessionID;
  target.sessionStore = binding.sessionStore;
  return true;
}

/** Set what `req.session` answers (null or undefined: the app unset it, or destroy() did). */
export function setRequestSession(req: object, binding: Binding, session: unknown): void {
  binding.session = session;
  if (Object.prototype.hasOwnProperty.call(req, "session")) {
    if (session === undefined) delete (req as { session?: unknown }).session;
    else (req as { session?: unknown }).session = session;
  }
}

/** Set what `req.sessionID` answers. */
export function setRequestSessionID(req: object, binding: Binding, sessionID: unknown): void {
  binding.sessionID = sessionID;
  if (Object.prototype.hasOwnProperty.call(req, "sessionID")) (req as { sessionID?: unknown }).sessionID = sessionID;
}

/**
 * Intercept the response's writeHead and end for `hooks`: through the prototype's interceptors when they are in
 * effect for this response, or with per-response wrappers when something else has wrapped `res.end`/`res.writeHead`
 * on the instance already (compression, a test's spy) or there is no Express prototype (a bare http server).
 */
export function interceptResponse(res: ServerResponse, binding: Binding, hooks: ResponseHooks): void {
  binding.response = hooks;
  // The slot bindRequest just claimed for this binding's request is its response's too (no `res.req.socket` load).
  const slot = lastClaimedSlot !== null && lastRequestBinding === binding ? lastClaimedSlot : slotOfResponse(res);
  let shown: Binding | undefined = binding;
  if (slot !== undefined && slot.binding === binding) slot.res = res;
  else {
    responses.set(res, binding);
    shown = lookUpResponse(res);
  }
  lastResponse = res;
  lastResponseBinding = shown;
  lastResponseSlot = slot;
  const viaPrototype = responseUsesInterceptors(res);
  const ownWriteHead = Object.prototype.hasOwnProperty.call(res, "writeHead");
  const ownEnd = Object.prototype.hasOwnProperty.call(res, "end");
  if (viaPrototype && !ownWriteHead && !ownEnd) return;
  const target = res as unknown as { writeHead: WriteHeadFunction; end: EndFunction };
  if (!viaPrototype || ownWriteHead || !interceptedWriteHead.has(target.writeHead)) {
    const writeHead = target.writeHead;
    target.writeHead = function writeHead_(this: ServerResponse): ServerResponse {
      const current = responseBindingOf(this)?.response;
      // eslint-disable-next-line prefer-rest-params -- pass the caller's arguments through exactly
      return writeHead.apply(this, (current ? current.beforeHeaders(this, arguments) : arguments) as unknown[]);
    };
  }
  if (!viaPrototype || ownEnd || !interceptedEnd.has(target.end)) {
    const end = target.end;
    target.end = function end_(this: ServerResponse): ServerResponse {
      const current = responseBindingOf(this)?.response;
      // eslint-disable-next-line prefer-rest-params -- pass the caller's arguments through exactly
      if (current && current.end(this, end, arguments)) return this;
      // eslint-disable-next-line prefer-rest-params -- as above
      return end.apply(this, arguments as unknown as unknown[]);
    };
  }
}
