"""Exact checks for the network pages (proofs/nn/*.md): chain rule, then closed forms."""

import sympy as sp
from _util import is_zero, wrong


@wrong(doubled=dict(dx_claim=lambda x, W, dy: dy * W.T * 2))
def check_dense_backward_closed_form(dx_claim=lambda x, W, dy: dy * W.T):
    """nn-dense: for y = xW + b (x: 2×3, W: 3×2), the chain rule entry by entry,
    ∂L/∂W_ij = Σ_n x_ni dy_nj, ∂L/∂x_ni = Σ_j dy_nj W_ij, ∂L/∂b_j = Σ_n dy_nj, equals
    xᵀdy, dy Wᵀ and Σ_n dy_n."""
    x = sp.Matrix(2, 3, sp.symbols("x0:6"))
    W = sp.Matrix(3, 2, sp.symbols("w0:6"))
    b = sp.Matrix(1, 2, sp.symbols("b0:2"))
    dy = sp.Matrix(2, 2, sp.symbols("d0:4"))
    y = x * W + sp.ones(2, 1) * b
    L = sum(dy[i, j] * y[i, j] for i in range(2) for j in range(2))   # ⟨dy, y⟩
    dW = sp.Matrix(3, 2, lambda i, j: sp.diff(L, W[i, j]))
    dx = sp.Matrix(2, 3, lambda i, j: sp.diff(L, x[i, j]))
    db = sp.Matrix(1, 2, lambda i, j: sp.diff(L, b[0, j]))
    assert (dW - x.T * dy).expand() == sp.zeros(3, 2)
    assert (dx - dx_claim(x, W, dy)).expand() == sp.zeros(2, 3)
    assert (db - sp.ones(1, 2) * dy).expand() == sp.zeros(1, 2)


@wrong(sum_not_product=dict(combine=lambda a, b: a + b))
def check_per_example_weight_gradient_norm(combine=lambda a, b: a * b):
    """nn-dense: ‖x_n dy_nᵀ‖_F² = ‖x_n‖² ‖dy_n‖² (the outer product's Frobenius norm)."""
    x = sp.Matrix(sp.symbols("x0:3"))
    d = sp.Matrix(sp.symbols("d0:2"))
    outer = x * d.T
    fro2 = sum(v ** 2 for v in outer)
    assert is_zero(fro2 - combine((x.T * x)[0], (d.T * d)[0]))


@wrong(tanh_plus=dict(tanh_prime=lambda t: 1 + t ** 2))
def check_activation_derivatives(tanh_prime=lambda t: 1 - t ** 2):
    """nn-activations: σ' for tanh (1−a²), sigmoid (a(1−a)), softplus (sigmoid), gelu-tanh."""
    z = sp.symbols("z", real=True)
    t = sp.tanh(z)
    assert is_zero(sp.diff(t, z) - tanh_prime(t))
    s = 1 / (1 + sp.exp(-z))
    assert is_zero(sp.diff(s, z) - s * (1 - s))
    assert is_zero(sp.diff(sp.log(1 + sp.exp(z)), z) - s)
    c, k = sp.sqrt(2 / sp.pi), sp.Rational(44715, 10 ** 6)
    u = sp.tanh(c * (z + k * z ** 3))
    gelu = z / 2 * (1 + u)
    claimed = (1 + u) / 2 + z / 2 * (1 - u ** 2) * c * (1 + 3 * k * z ** 2)
    assert is_zero(sp.diff(gelu, z) - claimed)


@wrong(sign=dict(grad=lambda soft, y: y - soft))
def check_softmax_cross_entropy_gradient(grad=lambda soft, y: soft - y):
    """nn-losses: ∂/∂z_k [logsumexp(z) − Σ y_j z_j] = softmax(z)_k − y_k when Σ y_j = 1."""
    z = sp.symbols("z0:3")
    y = sp.symbols("y0:2")
    ys = [y[0], y[1], 1 - y[0] - y[1]]
    lse = sp.log(sum(sp.exp(v) for v in z))
    loss = lse - sum(a * b for a, b in zip(ys, z))
    for k in range(3):
        soft = sp.exp(z[k]) / sum(sp.exp(v) for v in z)
        assert is_zero(sp.diff(loss, z[k]) - grad(soft, ys[k]))


@wrong(no_shift_back=dict(back=0))
def check_logsumexp_shift_invariance(back=1):
    """nn-losses: logsumexp(z − c) + c = logsumexp(z) — the stable form changes nothing."""
    z = sp.symbols("z0:3", real=True)
    c = sp.symbols("c", real=True)
    lhs = sp.log(sum(sp.exp(v - c) for v in z)) + back * c
    assert is_zero(sp.expand_log(sp.simplify(sp.exp(lhs) - sum(sp.exp(v) for v in z)), force=True))


@wrong(sign=dict(grad=lambda sig, y: y - sig))
def check_binary_logistic_gradient(grad=lambda sig, y: sig - y):
    """nn-losses: ∂/∂z [softplus(z) − y z] = σ(z) − y."""
    z, y = sp.symbols("z y", real=True)
    assert is_zero(sp.diff(sp.log(1 + sp.exp(z)) - y * z, z) - grad(1 / (1 + sp.exp(-z)), y))


@wrong(no_two=dict(two=1))
def check_mse_gradient(two=2):
    """nn-losses: ∂/∂p (1/(NK)) Σ (p − t)² = (2/(NK))(p − t)."""
    p, t, N, K = sp.symbols("p t N K", positive=True)
    assert is_zero(sp.diff((p - t) ** 2 / (N * K), p) - two * (p - t) / (N * K))
