r"""Population loss and gradient of a two-layer student against a fixed teacher (Gaussian inputs).

Place in the package: the two-layer teacher-student family (pair kernels of :mod:`symhess.two_layer.pairs`).

For :math:`f_\theta(x)=\sum_i v_i\sigma(w_i\cdot x)`, a teacher :math:`f^\star(x)=\sum_g v^\star_g
\sigma(w^\star_g\cdot x)` and :math:`x\sim N(0,I_{N_i})`, write the residual as one network over the
stacked units :math:`b_u\in\{w_i\}\cup\{w^\star_g\}` with output weights
:math:`s_u\in\{v_i\}\cup\{-v^\star_g\}`, :math:`e(x)=\sum_u s_u\sigma(b_u\cdot x)`. With the pair
kernels :math:`K_{ab}(q_1,q_2,c)=E[\sigma^{(a)}(u)\sigma^{(b)}(v)]`:

.. math::

    \varepsilon(\theta) &= \tfrac12 E[e^2] = \tfrac12\sum_{u,u'} s_us_{u'}\,K_{00}(b_u,b_{u'}),\\
    \partial_{v_i}\varepsilon &= E[e\,\sigma(w_i\cdot x)] = \sum_u s_u\,K_{00}(w_i,b_u),\\
    \nabla_{w_i}\varepsilon &= v_i\,E[e\,\sigma'(w_i\cdot x)\,x]
      = v_i\sum_u s_u\big(K_{20}(w_i,b_u)\,w_i + K_{11}(w_i,b_u)\,b_u\big)

(Stein's lemma :math:`E[x\,G(x)]=E[\nabla G]` for the last line; Couto et al. eqs. 1–2 in
expectation). When a unit meets itself (:math:`b_u=w_i`) the one-variable formulas
:math:`E[\sigma^2(h)]` and :math:`E[(\sigma'\sigma)'(h)]` are used. The kernels are the same
closed forms / exact moments / quadrature the expected Hessian uses
(:func:`symhess.pair_expectation`), so the Jacobian of :func:`population_gradient` is
:func:`symhess.expected_hessian` with the same teacher (tested by finite differences).

Accuracy. The expansion above is a sum of :math:`O(1)` terms that cancel near the optimum, so its
absolute error is a few ulps of :math:`\sum_{u,u'}|s_us_{u'}K_{00}|`: relative to a loss of size
:math:`\varepsilon` it is :math:`\sim10^{-16}/\varepsilon`, and the gradient has the same absolute
floor. When the student has the teacher's shape, ``method="path"`` removes the cancellation: with
:math:`\delta=\theta-\theta^\star`, :math:`\theta_s=\theta^\star+s\delta` and
:math:`e(x)=\int_0^1\nabla f_{\theta_s}(x)\cdot\delta\,ds`,

.. math::

    \varepsilon=\tfrac12\int_0^1\!\!\int_0^1\delta^\top G(\theta_s,\theta_r)\,\delta\,ds\,dr,\qquad
    \nabla\varepsilon(\theta)=\int_0^1 G(\theta,\theta_s)\,\delta\,ds,\qquad
    G(\theta_a,\theta_b)=E_x[\nabla f_{\theta_a}\nabla f_{\theta_b}^\top],

a cross Gauss–Newton matrix assembled from the same pair kernels, applied to :math:`\delta` without
forming it, and integrated by Gauss–Legendre (exact for polynomial activations of degree
:math:`<2n_{\rm nodes}`; exponentially convergent for analytic ones). Every term is
:math:`O(|\delta|^2)`, so the relative accuracy stays near :math:`10^{-15}` down to the optimum.
"""

from __future__ import annotations

import numpy as np

from ..activations import ActivationLike, activation as get_activation
from .templates import GAUSS_NEWTON, GRADIENT
from .pairs import cross_template_matrices, template_matrices
from ..validation import as_teacher, as_weights, check_variance_range
from ..errors import InvalidParameterError
from .architecture import as_input_cov, as_trainable, multi_output, teacher_act, trainable_index

__all__ = ["population_loss", "population_gradient", "population_loss_and_gradient", "cross_gauss_newton_matvec",
           "LOSS_METHODS"]

#: ``method`` values: pair-kernel expansion, path integral from the teacher, or choose automatically
LOSS_METHODS = ("auto", "expansion", "path")
#: Gauss-Legendre nodes of the path integral: few next to the optimum, more further away
_PATH_NODES, _PATH_NODES_FAR, _PATH_NEAR = 8, 24, 0.1
#: ``method="auto"`` takes the path integral when every |theta - theta*| entry is below this
_AUTO_PATH_MAX = 0.05


def _residual_units(act, W, v, W_teacher, v_teacher):
    act = get_activation(act)
    W, v = as_weights(W, v)
    if W_teacher is None or v_teacher is None:
        raise InvalidParameterError(
            "population_loss/population_gradient need the teacher: pass W_teacher and v_teacher "
            "(at the optimum, W_teacher=W and v_teacher=v, the loss and gradient are zero)"
        )
    Wt, vt = as_teacher(W_teacher, v_teacher, W.shape[1])
    act.require_numeric()  # before any shortcut: a symbolic parameter has no numeric loss
    with np.errstate(over="ignore"):
        check_variance_range(act, np.einsum("ij,ij->i", W, W), "W")
        check_variance_range(act, np.einsum("ij,ij->i", Wt, Wt), "W_teacher")
    return act, W, v, Wt, vt


def _loss(act, W, v, Wt, vt, tact=None) -> float:
    kss = template_matrices(act, GRADIENT["v"], W, W, same=True, warn=False)["1"]
    kst = cross_template_matrices(act, tact, GRADIENT["v"], W, Wt)["1"]
    ktt = template_matrices(tact or act, GRADIENT["v"], Wt, Wt, same=True, warn=False)["1"]
    return 0.5 * float(v @ kss @ v - 2.0 * v @ kst @ vt + vt @ ktt @ vt)


def _gradient(act, W, v, Wt, vt, tact=None) -> np.ndarray:
    Nh, Ni = W.shape
    grad_w = np.zeros((Nh, Ni))
    grad_v = np.zeros(Nh)

    def coefficients(spec, B, same):
        if same:
            return template_matrices(act, spec, W, B, same=True, warn=False)
        return cross_template_matrices(act, tact, spec, W, B)

    for B, s, same in ((W, v, True), (Wt, -vt, False)):
        k00 = coefficients(GRADIENT["v"], B, same)["1"]
        grad_v += k00 @ s
        cw = coefficients(GRADIENT["W"], B, same)
        grad_w += (cw["a"] @ s)[:, None] * W
        if "b" in cw:
            grad_w += (cw["b"] * s) @ B
    grad_w *= v[:, None]
    return np.concatenate([grad_w.ravel(), grad_v])


def cross_gauss_newton_matvec(act, Wa, va, Wb, vb, dW, dv, *, same: bool = False) -> np.ndarray:
    r""":math:`G(\theta_a,\theta_b)\,\delta` with :math:`G=E_x[\nabla f_{\theta_a}\nabla f_{\theta_b}^\top]`, :math:`\delta=(\mathrm{vec}\,dW, dv)`.

    Row unit :math:`a_i` (of :math:`\theta_a`) against column unit :math:`b_k` (of :math:`\theta_b`):

    .. math::

        [G\delta]_{w_i} &= v^a_i\sum_k\Big(v^b_k\,E[\sigma'(a_i\cdot x)\sigma'(b_k\cdot x)xx^\top]\,d_k
            + E[\sigma'(a_i\cdot x)\sigma(b_k\cdot x)x]\,dv_k\Big),\\
        [G\delta]_{v_i} &= \sum_k\Big(v^b_k\,E[\sigma(a_i\cdot x)\sigma'(b_k\cdot x)x]\cdot d_k
            + E[\sigma(a_i\cdot x)\sigma(b_k\cdot x)]\,dv_k\Big),

    each expectation reduced by Stein's lemma to the pair kernels. ``same=True`` when
    :math:`\theta_a=\theta_b` (a unit met with itself uses the one-variable formulas).
    """
    act = get_activation(act)
    A, B = Wa, Wb
    AD = A @ dW.T  # (i, k): a_i . d_k
    bd = np.einsum("kj,kj->k", B, dW)  # b_k . d_k
    c = template_matrices(act, GAUSS_NEWTON["WW"], A, B, same=same, warn=False)
    M = {key: val * vb[None, :] for key, val in c.items()}
    zero = np.zeros_like(AD)
    maa, mbb, mab = M.get("aa", zero), M.get("bb", zero), M.get("ab", zero)
    gw = M["delta"] @ dW
    gw += A * (np.sum(maa * AD, axis=1) + mab @ bd)[:, None]
    gw += (mbb * bd[None, :]) @ B + (mab * AD) @ B
    cwv = template_matrices(act, GAUSS_NEWTON["Wv"], A, B, same=same, warn=False)
    gw += A * (cwv["a"] @ dv)[:, None] + (cwv.get("b", zero) * dv[None, :]) @ B
    gw *= va[:, None]
    cvw = template_matrices(act, GAUSS_NEWTON["Wv"], B, A, same=same, warn=False)  # [k, i]
    gv = cvw["a"].T @ (vb * bd) + np.sum(cvw.get("b", zero.T).T * vb[None, :] * AD, axis=1)
    gv += template_matrices(act, GAUSS_NEWTON["vv"], A, B, same=same, warn=False)["1"] @ dv
    return np.concatenate([gw.ravel(), gv])


def _n_nodes(W, v, Wt, vt) -> int:
    far = max(np.abs(W - Wt).max(), np.abs(v - vt).max()) > _PATH_NEAR
    return _PATH_NODES_FAR if far else _PATH_NODES


def _path_points(W, v, Wt, vt, n_nodes):
    s, w = np.polynomial.legendre.leggauss(n_nodes)
    s, w = 0.5 * (s + 1.0), 0.5 * w
    dW, dv = W - Wt, v - vt
    return [(Wt + si * dW, vt + si * dv) for si in s], w, dW, dv


def _path_loss(act, W, v, Wt, vt, n_nodes=None) -> float:
    n_nodes = _n_nodes(W, v, Wt, vt) if n_nodes is None else n_nodes
    pts, w, dW, dv = _path_points(W, v, Wt, vt, n_nodes)
    d = np.concatenate([dW.ravel(), dv])
    total = 0.0
    for m in range(n_nodes):
        for n in range(m, n_nodes):
            val = d @ cross_gauss_newton_matvec(act, *pts[m], *pts[n], dW, dv, same=m == n)
            total += (1.0 if m == n else 2.0) * w[m] * w[n] * val
    return 0.5 * total


def _path_gradient(act, W, v, Wt, vt, n_nodes=None) -> np.ndarray:
    n_nodes = _n_nodes(W, v, Wt, vt) if n_nodes is None else n_nodes
    pts, w, dW, dv = _path_points(W, v, Wt, vt, n_nodes)
    return sum(w[m] * cross_gauss_newton_matvec(act, W, v, *pts[m], dW, dv) for m in range(n_nodes))


def _method(method: str, W, Wt, act=None, v=None, vt=None) -> str:
    if method not in LOSS_METHODS:
        raise InvalidParameterError(f"method={method!r} is unknown; choose one of {LOSS_METHODS}")
    if method == "path" and W.shape != Wt.shape:
        raise InvalidParameterError(
            f"method='path' needs a student of the teacher's shape; got W {W.shape} and W_teacher {Wt.shape}"
        )
    if method == "auto":
        smooth = act is None or not (act.singular_at_parallel or act.undefined_at_zero)
        near = W.shape == Wt.shape and max(np.abs(W - Wt).max(), np.abs(v - vt).max()) <= _AUTO_PATH_MAX
        return "path" if near and smooth else "expansion"
    return method


def population_loss(
    act: ActivationLike,
    W: np.ndarray,
    v: np.ndarray,
    W_teacher: np.ndarray,
    v_teacher: np.ndarray,
    *,
    method: str = "auto",
    input_cov: np.ndarray | None = None,
    trainable: tuple[str, ...] | None = None,
    teacher_activation: ActivationLike | None = None,
    b: np.ndarray | None = None,
    b_out: np.ndarray | float | None = None,
    b_teacher: np.ndarray | None = None,
    b_out_teacher: np.ndarray | float | None = None,
) -> float:
    r"""Population loss :math:`\varepsilon(\theta)=\tfrac12E_x[(f_\theta(x)-f^\star(x))^2]`, :math:`x\sim N(0,I)`.

    .. math::

        \varepsilon = \tfrac12\Big(v^\top K(W,W)v - 2v^\top K(W,W^\star)v^\star
            + v^{\star\top}K(W^\star,W^\star)v^\star\Big),\qquad K(A,B)_{ig}=E[\sigma(a_i\cdot x)\sigma(b_g\cdot x)].

    Parameters
    ----------
    act : str or Activation
        Activation (``"erf"``, ``"relu"``, ``"quadratic:eps=0.5"``, ...).
    W, v : ndarray, shapes (Nh, Ni) and (Nh,)
        Student weights.
    W_teacher, v_teacher : ndarray, shapes (Nt, Ni) and (Nt,)
        Teacher weights (any hidden size ``Nt``, same ``Ni``).
    method : {"auto", "expansion", "path"}
        ``"expansion"``: the formula above (absolute error ~1e-16, any teacher size);
        ``"path"``: the cancellation-free path integral (module docstring; teacher of the student's
        shape; relative error ~1e-15 even next to the optimum, for smooth activations); ``"auto"``:
        ``"path"`` next to the optimum (same shapes, every :math:`|\theta-\theta^\star|` entry
        :math:`\le 0.05`, where the expansion's cancellation starts to matter) for smooth
        activations (pair kernels analytic at parallel units: not ReLU, whose path integrand has a
        kink so Gauss–Legendre converges slowly), else ``"expansion"``. The path rule uses 8 nodes
        when every entry of :math:`\delta` is :math:`\le0.1` and 24 otherwise.
    input_cov : ndarray, optional
        Input covariance :math:`\Sigma` (``(Ni, Ni)`` symmetric PSD, or its diagonal ``(Ni,)``):
        :math:`\varepsilon_\Sigma(W,v)=\varepsilon_I(W\Sigma^{1/2},v)` with the teacher whitened alike
        (:mod:`symhess.two_layer.architecture`).
    trainable : tuple of str, optional
        Accepted for symmetry with the gradient and Hessian (the loss value does not depend on which
        groups are trained); validated.
    teacher_activation : str or Activation, optional
        The teacher's activation :math:`\tau` when it differs from the student's:
        :math:`K(W,W^\star)_{ig}=E[\sigma(w_i\cdot x)\tau(w^\star_g\cdot x)]`
        (:func:`symhess.expectation.pairs.cross_pair_expectation`: closed forms for two polynomials or erf
        with any two scales, quadrature for other smooth pairs) and :math:`K(W^\star,W^\star)` with :math:`\tau`; ``method`` is then ``"expansion"``.
    b, b_out, b_teacher, b_out_teacher : ndarray or float, optional
        Hidden and output biases of the student and the teacher (as for :func:`symhess.expected_hessian`):
        :math:`f(x)=\sum_iv_i\sigma(w_i\cdot x+b_i)+b_{\rm out}`; the loss is then the expansion in
        the pair expectations with means (:mod:`symhess.two_layer.biases`).

    Returns
    -------
    float

    Raises
    ------
    ShapeError, NonFiniteError, ValueError
        Bad shapes, non-finite weights, or a missing teacher.

    Examples
    --------
    >>> import symhess
    >>> W, v = symhess.teacher(4, 3, rng=0)
    >>> symhess.population_loss("erf", W, v, W, v)
    0.0
    """
    if _biased(b, b_out, b_teacher, b_out_teacher):
        return _biased_net(act, W, v, W_teacher, v_teacher, b, b_out, b_teacher, b_out_teacher, input_cov, trainable,
                           teacher_activation, method).loss()
    if np.ndim(v) == 2:  # several outputs: the loss is the sum of the outputs' losses
        W, V, Wt, Vt = _outputs(W, v, W_teacher, v_teacher)
        kw = dict(method=method, input_cov=input_cov, trainable=trainable, teacher_activation=teacher_activation)
        return float(sum(population_loss(act, W, V[o], Wt, Vt[o], **kw) for o in range(V.shape[0])))
    act, W, v, Wt, vt = _residual_units(act, W, v, W_teacher, v_teacher)
    as_trainable(trainable)
    cov = as_input_cov(input_cov, W.shape[1])
    tact = teacher_act(act, teacher_activation, Wt)
    method = _expansion_only(method, tact)
    if cov is not None:
        W, Wt = cov.whiten(W), cov.whiten(Wt)
    chosen = _method(method, W, Wt, act, v, vt)  # validates the name first, also at the optimum
    if tact is None and Wt.shape == W.shape and np.array_equal(W, Wt) and np.array_equal(v, vt):
        return 0.0
    if chosen == "path":
        return max(_path_loss(act, W, v, Wt, vt), 0.0)
    return max(_loss(act, W, v, Wt, vt, tact), 0.0)


def _biased(*biases) -> bool:
    from .biases import has_biases

    return has_biases(*biases)


def _biased_net(act, W, v, W_teacher, v_teacher, b, b_out, b_teacher, b_out_teacher, input_cov, trainable,
                teacher_activation, method):
    """The network with biases for the loss and the gradient (the expansion route; a teacher is required)."""
    from .biases import biased_network

    if W_teacher is None or v_teacher is None:
        raise InvalidParameterError(
            "population_loss/population_gradient need the teacher: pass W_teacher and v_teacher "
            "(at the optimum, the teacher's weights and biases equal the student's, the loss and gradient are zero)"
        )
    if method not in LOSS_METHODS or method == "path":
        if method == "path":
            raise InvalidParameterError("method='path' has no biases; with biases use method='expansion' or 'auto'")
        raise InvalidParameterError(f"method={method!r} is unknown; choose one of {LOSS_METHODS}")
    return biased_network(act, W, v, b=b, b_out=b_out, W_teacher=W_teacher, v_teacher=v_teacher, b_teacher=b_teacher,
                          b_out_teacher=b_out_teacher, input_cov=input_cov, trainable=trainable,
                          teacher_activation=teacher_activation)


def _outputs(W, v, W_teacher, v_teacher):
    W, V, Wt, Vt = multi_output(W, v, W_teacher, v_teacher)
    if Wt is None:
        raise InvalidParameterError(
            "population_loss/population_gradient need the teacher: pass W_teacher and v_teacher "
            "(at the optimum, W_teacher=W and v_teacher=v, the loss and gradient are zero)"
        )
    return W, V, Wt, Vt


def _expansion_only(method: str, tact) -> str:
    """With a teacher of another activation only the expansion applies (the path integral starts at the teacher)."""
    if tact is None or method == "expansion":
        return method
    if method == "path":
        raise InvalidParameterError(
            f"method='path' integrates from the teacher's weights and needs the student's activation; with "
            f"teacher_activation={tact.spec!r} use method='expansion' or 'auto'"
        )
    if method not in LOSS_METHODS:
        raise InvalidParameterError(f"method={method!r} is unknown; choose one of {LOSS_METHODS}")
    return "expansion"


def population_gradient(
    act: ActivationLike,
    W: np.ndarray,
    v: np.ndarray,
    W_teacher: np.ndarray,
    v_teacher: np.ndarray,
    *,
    method: str = "auto",
    input_cov: np.ndarray | None = None,
    trainable: tuple[str, ...] | None = None,
    teacher_activation: ActivationLike | None = None,
    b: np.ndarray | None = None,
    b_out: np.ndarray | float | None = None,
    b_teacher: np.ndarray | None = None,
    b_out_teacher: np.ndarray | float | None = None,
) -> np.ndarray:
    r"""Gradient :math:`\nabla_\theta\varepsilon`, ordered like the Hessian: :math:`\theta=(\mathrm{vec}W, v)`.

    .. math::

        \partial_{v_i}\varepsilon=\sum_u s_uK_{00}(w_i,b_u),\qquad
        \nabla_{w_i}\varepsilon=v_i\sum_u s_u\big(K_{20}(w_i,b_u)\,w_i+K_{11}(w_i,b_u)\,b_u\big),

    over the residual's units :math:`(b_u,s_u)` = student :math:`(w_k,v_k)` and teacher
    :math:`(w^\star_g,-v^\star_g)`.

    Parameters
    ----------
    act, W, v, W_teacher, v_teacher, method, input_cov, teacher_activation
        As for :func:`population_loss`. With ``input_cov``,
        :math:`g_\Sigma(W,v)=J\,g_I(W\Sigma^{1/2},v)`, :math:`J=\operatorname{blockdiag}(I\otimes\Sigma^{1/2},I)`.
    trainable : tuple of str, optional
        The trained groups, a subset of ``("W", "v")`` (with biases also ``"b"``, ``"b_out"``): only
        their entries are returned (the gradient of the frozen-rest problem).
    b, b_out, b_teacher, b_out_teacher : ndarray or float, optional
        Biases, as for :func:`population_loss`; the gradient is then ordered :math:`(W, v, b, b_{\rm out})`.

    Returns
    -------
    ndarray, shape (Nh*Ni + Nh,)
        ``W`` part row-major, then ``v`` (the trained groups only, with ``trainable``).
    """
    if _biased(b, b_out, b_teacher, b_out_teacher):
        return _biased_net(act, W, v, W_teacher, v_teacher, b, b_out, b_teacher, b_out_teacher, input_cov, trainable,
                           teacher_activation, method).gradient()
    if np.ndim(v) == 2:  # several outputs: W gradients add up, each output's v gradient is its own
        W, V, Wt, Vt = _outputs(W, v, W_teacher, v_teacher)
        groups = as_trainable(trainable)
        kw = dict(method=method, input_cov=input_cov, teacher_activation=teacher_activation)
        gs = [population_gradient(act, W, V[o], Wt, Vt[o], **kw) for o in range(V.shape[0])]
        m = W.size
        g = np.concatenate([sum(gi[:m] for gi in gs)] + [gi[m:] for gi in gs])
        idx = trainable_index(groups, W.shape[0], W.shape[1], V.shape[0])
        return g if idx is None else g[idx]
    act, W, v, Wt, vt = _residual_units(act, W, v, W_teacher, v_teacher)
    groups = as_trainable(trainable)
    cov = as_input_cov(input_cov, W.shape[1])
    tact = teacher_act(act, teacher_activation, Wt)
    method = _expansion_only(method, tact)
    Nh, Ni = W.shape
    if cov is not None:
        W, Wt = cov.whiten(W), cov.whiten(Wt)
    if _method(method, W, Wt, act, v, vt) == "path":
        g = _path_gradient(act, W, v, Wt, vt)
    else:
        g = _gradient(act, W, v, Wt, vt, tact)
    if cov is not None:
        g = cov.map_gradient(g, Nh, Ni)
    idx = trainable_index(groups, Nh, Ni)
    return g if idx is None else g[idx]


def population_loss_and_gradient(
    act: ActivationLike,
    W: np.ndarray,
    v: np.ndarray,
    W_teacher: np.ndarray,
    v_teacher: np.ndarray,
    *,
    method: str = "auto",
    input_cov: np.ndarray | None = None,
    trainable: tuple[str, ...] | None = None,
    teacher_activation: ActivationLike | None = None,
    b: np.ndarray | None = None,
    b_out: np.ndarray | float | None = None,
    b_teacher: np.ndarray | None = None,
    b_out_teacher: np.ndarray | float | None = None,
) -> tuple[float, np.ndarray]:
    """Both :func:`population_loss` and :func:`population_gradient` (the same arguments)."""
    if _biased(b, b_out, b_teacher, b_out_teacher):
        net = _biased_net(act, W, v, W_teacher, v_teacher, b, b_out, b_teacher, b_out_teacher, input_cov, trainable,
                          teacher_activation, method)
        return net.loss(), net.gradient()
    kw = dict(method=method, input_cov=input_cov, trainable=trainable, teacher_activation=teacher_activation)
    return (population_loss(act, W, v, W_teacher, v_teacher, **kw),
            population_gradient(act, W, v, W_teacher, v_teacher, **kw))
