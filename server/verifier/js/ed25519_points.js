// Telling a weak Ed25519 public key from a real one: a port of
// verifiable/log/ed25519_points.py. Under a key of small order, OpenSSL and
// WebCrypto accept the signature R = identity, S = 0 on any text whose hash
// is a multiple of the key's order, so a forger who chooses the text always
// finds one; such keys (and keys not canonically encoded, which name the
// same points) are refused when a verifier key string is read.

const P = (1n << 255n) - 19n;

function mod(a) {
  const r = a % P;
  return r < 0n ? r + P : r;
}

function pow(base, exponent) {
  let result = 1n;
  let b = mod(base);
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}

const D = mod(-121665n * pow(121666n, P - 2n));
const SQRT_M1 = pow(2n, (P - 1n) / 4n);

function littleEndian(bytes) {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
  return value;
}

// The point `encoded` names (RFC 8032 §5.1.3), or why it names none.
function decode(encoded) {
  const value = littleEndian(encoded);
  const sign = value >> 255n;
  const y = value & ((1n << 255n) - 1n);
  if (y >= P) return "its y coordinate is not reduced (a non-canonical encoding)";
  const u = mod(y * y - 1n);
  const v = mod(D * y * y + 1n);
  let x = mod(u * pow(v, 3n) * pow(u * pow(v, 7n), (P - 5n) / 8n));
  if (mod(v * x * x - u) !== 0n) {
    x = mod(x * SQRT_M1);
    if (mod(v * x * x - u) !== 0n) return "it is not a point on the curve";
  }
  if (x === 0n && sign === 1n) return "x is 0 with the sign bit set (a non-canonical encoding)";
  if ((x & 1n) !== sign) x = P - x;
  return [x, y];
}

function double([x, y]) {
  const xy = mod(x * y);
  const dxy = mod(D * xy * xy);
  return [mod(2n * xy * pow(1n + dxy, P - 2n)), mod((y * y + x * x) * pow(1n - dxy, P - 2n))];
}

// Why the 32-byte public key `encoded` proves nothing, or null for a key
// that can.
export function weakPublicKey(encoded) {
  let point = decode(encoded);
  if (typeof point === "string") return point;
  for (let i = 0; i < 3; i++) point = double(point);
  if (point[0] === 0n && point[1] === 1n) {
    return "it is a point of small order, under which any text can be signed";
  }
  return null;
}
