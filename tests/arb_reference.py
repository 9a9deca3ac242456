"""30-digit references for Gaussian expectations of tanh derivatives (python-flint arb + mpmath).

An independent route to the quadrature of ``symhess.kernels.quadrature``: no saturation split, no
trapezoidal rule. The double integral E[tanh^(a)(u) tanh^(b)(v)] conditions on the variable of larger
variance and uses nested composite Gauss-Legendre rules (nodes from mpmath at 40 digits) on panels graded
geometrically about the features (the activation's poles lie at Re t = 0 only, so a panel [x, 2x] sees
them at a distance ~x; the conditional Gaussian gets panels graded about its centre), in arb ball
arithmetic at 113 bits. Derivatives are sech^2 times a polynomial in tanh (checked against mpmath's
numerical differentiation in the tests). Gaussian tails are cut at 13 standard deviations, tanh-derivative
tails at |t| = 46 (below 1e-39).
"""
import math
import flint
import mpmath as mp

flint.ctx.prec = 113  # 34 decimal digits, so every reference carries 30 correct digits of arithmetic
NGL = 14
_gl = {}


def _nodes(n):
    if n not in _gl:
        with mp.workdps(40):
            xs, ws = [], []
            for k in range(1, n + 1):
                x = mp.cos(mp.pi * (k - mp.mpf(1) / 4) / (n + mp.mpf(1) / 2))
                for _ in range(100):
                    p0, p1 = mp.mpf(1), x
                    for j in range(2, n + 1):
                        p0, p1 = p1, ((2 * j - 1) * x * p1 - (j - 1) * p0) / j
                    dp = n * (x * p1 - p0) / (x * x - 1)
                    dx = p1 / dp
                    x -= dx
                    if abs(dx) < mp.mpf(10) ** -45:
                        break
                xs.append(flint.arb(mp.nstr(x, 40)))
                ws.append(flint.arb(mp.nstr(2 / ((1 - x * x) * dp * dp), 40)))
        _gl[n] = (xs, ws)
    return _gl[n]


def tanh_d(n, x):
    """tanh^(n)(x) in arb: sech^2 times a polynomial in tanh (n <= 4)."""
    t = x.tanh()
    if n == 0:
        return t
    s = 1 / x.cosh() ** 2
    return s * [1, -2 * t, 6 * t * t - 2, 16 * t - 24 * t * t * t][n - 1]


def _geo(lo, hi, center, finest):
    pts = {lo, hi}
    if lo < center < hi:
        pts.add(center)
    d = finest
    while True:
        a, b = center - d, center + d
        if a <= lo and b >= hi:
            break
        for p in (a, b):
            if lo < p < hi:
                pts.add(p)
        d *= 2
    return pts


def _gl_sum(f, pts):
    xs, ws = _nodes(NGL)
    tot = flint.arb(0)
    for a, b in zip(pts[:-1], pts[1:]):
        a, b = flint.arb(a), flint.arb(b)  # exact: the panels tile the interval exactly
        h, m = (b - a) / 2, (a + b) / 2
        tot += h * sum((w * f(m + h * x) for x, w in zip(xs, ws)), flint.arb(0))
    return tot


def pair_ref(a, b, q1, q2, c, deriv=None, reach=46.0):
    """E[tanh^(a)(u) tanh^(b)(v)], (u, v) ~ N(0, [[q1, c], [c, q2]]) for the float inputs taken exactly.

    ``deriv(n, x)`` replaces tanh's derivatives (an activation with its features at t = 0); its order-n
    derivative is taken as zero beyond |t| = ``reach(n)`` (a callable; None: never), tanh's 46 by default.
    """
    d = tanh_d if deriv is None else deriv
    cut = (lambda n: reach if n > 0 else None) if not callable(reach) else reach
    q1, q2, c = flint.arb(q1), flint.arb(q2), flint.arb(c)
    if q2 > q1:
        a, b, q1, q2 = b, a, q2, q1
    s1 = q1.sqrt()
    kap = c / q1
    tau = ((q1 * q2 - c * c) / q1).sqrt() if q1 * q2 > c * c else flint.arb(0)
    kf, tf, sf = float(kap.mid()), float(tau.mid()), float(s1.mid())
    norm = 1 / (2 * flint.arb.pi()).sqrt()

    def inner(u):
        mu = kap * u
        muf = float(mu.mid())
        if tf == 0:
            return d(b, mu)
        lo, hi = muf - 13 * tf, muf + 13 * tf
        if cut(b) is not None:
            lo, hi = max(lo, -cut(b)), min(hi, cut(b))
            if lo >= hi:
                return flint.arb(0)
        pts = _geo(lo, hi, 0.0, min(tf, 1.0) / 4) | _geo(lo, hi, muf, tf / 4)
        return _gl_sum(lambda t: d(b, t) * (-(t - mu) ** 2 / (2 * tau * tau)).exp(), sorted(pts)) * norm / tau

    lo, hi = -13 * sf, 13 * sf
    if cut(a) is not None:
        lo, hi = max(lo, -cut(a)), min(hi, cut(a))
    scale_i = max(tf, 1.0) / abs(kf) if kf != 0 else math.inf
    pts = _geo(lo, hi, 0.0, min(sf, 1.0, scale_i) / 4)
    return _gl_sum(lambda u: d(a, u) * inner(u) * (-u * u / (2 * q1)).exp(), sorted(pts)) * norm / s1


def sigmoid_d(n, x):
    """sigmoid^(n)(x) in arb: 1/2 + tanh(x/2)/2 differentiated (n <= 4)."""
    t = tanh_d(n, x / 2) / 2 ** (n + 1)
    return t + flint.arb(1) / 2 if n == 0 else t


def softplus_d(n, x):
    """softplus^(n)(x) in arb: log(1 + e^x), then sigmoid^(n-1) (n <= 5)."""
    return (1 + x.exp()).log() if n == 0 else sigmoid_d(n - 1, x)


def silu_d(n, x):
    """silu^(n)(x) = x sigmoid^(n)(x) + n sigmoid^(n-1)(x) in arb (n <= 4)."""
    return x * sigmoid_d(n, x) + (n * sigmoid_d(n - 1, x) if n else 0)


def single_ref(g, q):
    """E[g(h)], h ~ N(0, q), g an arb function."""
    q = flint.arb(q)
    s = q.sqrt()
    sf = float(s.mid())
    pts = _geo(-13 * sf, 13 * sf, 0.0, min(sf, 1.0) / 4)
    return _gl_sum(lambda h: g(h) * (-h * h / (2 * q)).exp(), sorted(pts)) / (s * (2 * flint.arb.pi()).sqrt())
