"""Tests for optlab._backend: every adapter on NumPy and array_api_strict (CuPy with ``gpu``).

References are NumPy/SciPy computations on host copies; results are compared through
``to_numpy`` and must come back in the input namespace and dtype.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.testing import assert_allclose, assert_array_equal

from optlab import _backend as B
from optlab._backend import (
    asarray_like,
    cg,
    cholesky,
    default_float,
    eigh,
    float_dtype,
    get_namespace,
    is_cupy_namespace,
    is_numpy_namespace,
    is_sparse,
    matmul,
    norm,
    scatter_add,
    solve,
    sparse_from_coo,
    to_dense,
    to_numpy,
    vdot,
)

DTYPES = ["float64", "float32"]
RTOL = {"float64": 1e-10, "float32": 1e-4}


def _spd(n, seed=0, cond=10.0):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    w = np.geomspace(1.0, cond, n)
    return (Q * w) @ Q.T


def _as(xp, a, dtype="float64"):
    return xp.asarray(np.asarray(a), dtype=getattr(xp, dtype))


def _same_namespace_and_dtype(xp, out, dtype):
    assert get_namespace(out) is xp
    assert out.dtype == getattr(xp, dtype)


# --------------------------------------------------------------------------------------
# namespaces, conversion, dtypes
# --------------------------------------------------------------------------------------


def test_get_namespace_roundtrip(xp):
    x = _as(xp, [1.0, 2.0], "float32")
    assert get_namespace(x) is xp
    assert get_namespace(x, None, 2.0) is xp
    back = to_numpy(x)
    assert isinstance(back, np.ndarray) and back.dtype == np.float32
    assert_array_equal(back, [1.0, 2.0])


def test_namespace_predicates():
    import array_api_compat.numpy as cnp
    import array_api_strict as xs

    assert is_numpy_namespace(cnp) and is_numpy_namespace(np)
    assert not is_numpy_namespace(xs)
    assert not is_cupy_namespace(cnp)
    assert B.is_array_api_strict_namespace(xs)


def test_get_namespace_sparse():
    import array_api_compat.numpy as cnp
    import array_api_strict as xs

    A = sp.eye(3, format="csr")
    assert get_namespace(A) is cnp
    assert get_namespace(A, np.ones(3)) is cnp
    with pytest.raises(TypeError, match="sparse"):
        get_namespace(A, xs.ones(3))
    with pytest.raises(TypeError):
        get_namespace(np.ones(3), xs.ones(3))


def test_to_numpy_inputs():
    import array_api_strict as xs

    a = np.arange(3.0)
    assert to_numpy(a) is a
    assert_array_equal(to_numpy([1, 2]), [1, 2])
    assert_array_equal(to_numpy(sp.eye(2, format="csr")), np.eye(2))
    on_dev = xs.asarray([1.0, 2.0], device=xs.Device("device1"))
    assert_array_equal(to_numpy(on_dev), [1.0, 2.0])  # explicit transfer, like cupy .get()


def test_default_and_float_dtype(xp):
    assert default_float(xp) == xp.float64
    ints = xp.asarray([1, 2, 3])
    assert float_dtype(xp, ints) == xp.float64
    assert float_dtype(xp, _as(xp, [1.0], "float32")) == xp.float32
    assert float_dtype(xp, _as(xp, [1.0], "float32"), _as(xp, [1.0])) == xp.float64
    assert float_dtype(xp) == xp.float64


def test_default_float_no_float64_device():
    import array_api_strict as xs

    assert default_float(xs, xs.Device("no_float64")) == xs.float32


def test_asarray_like(xp):
    like = _as(xp, [0.0, 0.0], "float32")
    out = asarray_like(xp, [1, 2], like=like)
    _same_namespace_and_dtype(xp, out, "float32")
    assert asarray_like(xp, [1.0]).dtype == xp.float64
    assert asarray_like(xp, [1.0], like=like, dtype=xp.float64).dtype == xp.float64


# --------------------------------------------------------------------------------------
# dense linear algebra
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("assume_a", ["gen", "pos"])
@pytest.mark.parametrize("rhs_shape", [(6,), (6, 2)])
def test_solve(xp, dtype, assume_a, rhs_shape):
    A = _spd(6, seed=1)
    b = np.random.default_rng(2).standard_normal(rhs_shape)
    x = solve(xp, _as(xp, A, dtype), _as(xp, b, dtype), assume_a=assume_a)
    _same_namespace_and_dtype(xp, x, dtype)
    assert x.shape == rhs_shape
    assert_allclose(to_numpy(x), np.linalg.solve(A, b), rtol=RTOL[dtype] * 10, atol=RTOL[dtype])


def test_solve_nonsymmetric_general(xp):
    A = np.array([[0.0, 2.0, 1.0], [1.0, 0.0, 0.0], [3.0, 1.0, 4.0]])
    b = np.array([1.0, 2.0, 3.0])
    x = solve(xp, _as(xp, A), _as(xp, b))
    assert_allclose(to_numpy(x), sla.solve(A, b), rtol=1e-12)


def test_solve_pos_rejects_indefinite(xp):
    A = _as(xp, [[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(np.linalg.LinAlgError):
        solve(xp, A, _as(xp, [1.0, 1.0]), assume_a="pos")


def test_solve_bad_input(xp):
    with pytest.raises(ValueError, match="assume_a"):
        solve(xp, _as(xp, np.eye(2)), _as(xp, [1.0, 1.0]), assume_a="sym")
    with pytest.raises(ValueError, match="square"):
        solve(xp, _as(xp, np.ones((2, 3))), _as(xp, [1.0, 1.0]))


def test_solve_sparse():
    A = sp.csr_array(_spd(5, seed=3))
    b = np.arange(5.0)
    x = solve(get_namespace(A, b), A, b, assume_a="pos")
    assert_allclose(x, np.linalg.solve(A.toarray(), b), rtol=1e-10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lower", [True, False])
def test_cholesky(xp, dtype, lower):
    A = _spd(5, seed=4)
    L = cholesky(xp, _as(xp, A, dtype), lower=lower)
    _same_namespace_and_dtype(xp, L, dtype)
    ref = np.linalg.cholesky(A)
    assert_allclose(to_numpy(L), ref if lower else ref.T, rtol=RTOL[dtype] * 10, atol=RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_eigh(xp, dtype):
    A = _spd(6, seed=5, cond=100.0)
    w, V = eigh(xp, _as(xp, A, dtype))
    _same_namespace_and_dtype(xp, w, dtype)
    _same_namespace_and_dtype(xp, V, dtype)
    w_np, V_np = to_numpy(w), to_numpy(V)
    assert_allclose(w_np, sla.eigh(A, eigvals_only=True), rtol=RTOL[dtype] * 10)
    assert_allclose(A @ V_np, V_np * w_np, atol=RTOL[dtype] * 100)
    assert_allclose(V_np.T @ V_np, np.eye(6), atol=RTOL[dtype] * 10)


def test_eigh_rejects_sparse():
    with pytest.raises(TypeError, match="dense"):
        eigh(np, sp.eye(3, format="csr"))


@pytest.mark.parametrize("dtype", DTYPES)
def test_norm_vdot(xp, dtype):
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal(7), rng.standard_normal(7)
    nx_, d = norm(xp, _as(xp, x, dtype)), vdot(xp, _as(xp, x, dtype), _as(xp, y, dtype))
    _same_namespace_and_dtype(xp, nx_, dtype)
    _same_namespace_and_dtype(xp, d, dtype)
    assert nx_.shape == () and d.shape == ()
    assert_allclose(float(nx_), np.linalg.norm(x), rtol=RTOL[dtype])
    assert_allclose(float(d), x @ y, rtol=RTOL[dtype] * 10)
    M = rng.standard_normal((3, 4))
    assert_allclose(float(norm(xp, _as(xp, M))), np.linalg.norm(M), rtol=1e-12)
    with pytest.raises(ValueError, match="shapes"):
        vdot(xp, _as(xp, x), _as(xp, y[:3]))


def test_vdot_complex_conjugates(xp):
    x = xp.asarray(np.array([1 + 2j, 3 - 1j]))
    y = xp.asarray(np.array([2 - 1j, 1j]))
    assert_allclose(complex(vdot(xp, x, y)), np.vdot([1 + 2j, 3 - 1j], [2 - 1j, 1j]))


# --------------------------------------------------------------------------------------
# conjugate gradients
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_cg_matches_direct_solve(xp, dtype):
    A = _spd(30, seed=7, cond=50.0)
    b = np.random.default_rng(8).standard_normal(30)
    tol = 1e-10 if dtype == "float64" else 1e-5
    x, info, n_matvec = cg(xp, _as(xp, A, dtype), _as(xp, b, dtype), tol=tol)
    _same_namespace_and_dtype(xp, x, dtype)
    assert info == 0
    # ||r_k|| / ||b|| <= 2 sqrt(kappa) q^k, q = (sqrt(kappa) - 1) / (sqrt(kappa) + 1)
    # (Nocedal & Wright eq. (5.36) plus the A-norm / residual equivalence), kappa = 50
    q = (50**0.5 - 1) / (50**0.5 + 1)
    k_bound = int(np.ceil(np.log(tol / (2 * 50**0.5)) / np.log(q)))
    assert 1 <= n_matvec <= k_bound
    x_np = to_numpy(x).astype(np.float64)
    assert np.linalg.norm(A @ x_np - b) <= 10 * tol * np.linalg.norm(b)
    assert_allclose(x_np, np.linalg.solve(A, b), rtol=100 * tol, atol=100 * tol)
    # agrees with scipy's cg
    x_sp, info_sp = spla.cg(A, b, rtol=tol, atol=0.0)
    assert info_sp == 0
    assert_allclose(x_np, x_sp, rtol=1e3 * tol, atol=1e3 * tol)


def test_cg_counts_distinct_eigenvalues(xp):
    # CG terminates after as many iterations as A has distinct eigenvalues.
    d = np.array([1.0, 1.0, 4.0, 4.0, 9.0, 9.0, 9.0, 1.0])
    b = np.random.default_rng(9).standard_normal(8)
    A = _as(xp, np.diag(d))
    x, info, n_matvec = cg(xp, A, _as(xp, b))
    assert (info, n_matvec) == (0, 3)
    assert_allclose(to_numpy(x), b / d, rtol=1e-10)
    # a nonzero x0 costs one extra product for the initial residual
    x, info, n_matvec = cg(xp, A, _as(xp, b), x0=_as(xp, np.ones(8)))
    assert (info, n_matvec) == (0, 4)
    assert_allclose(to_numpy(x), b / d, rtol=1e-10)


def test_cg_callable_and_operators():
    d = np.array([1.0, 2.0, 2.0, 5.0])
    b = np.ones(4)
    xp = get_namespace(b)
    calls = []

    def matvec(v):
        calls.append(1)
        return d * v

    x, info, n_matvec = cg(xp, matvec, b)
    assert (info, n_matvec, len(calls)) == (0, 3, 3)
    assert_allclose(x, b / d, rtol=1e-12)
    for A in (
        sp.diags(d, format="csr"),
        sp.csr_array(np.diag(d)),
        spla.aslinearoperator(np.diag(d)),
    ):
        x, info, n_matvec = cg(xp, A, b)
        assert (info, n_matvec) == (0, 3)
        assert_allclose(x, b / d, rtol=1e-12)


def test_cg_max_iter_breakdown_zero_rhs(xp):
    A = _as(xp, _spd(10, seed=10, cond=1e3))
    b = _as(xp, np.ones(10))
    x, info, n_matvec = cg(xp, A, b, max_iter=2)
    assert (info, n_matvec) == (2, 2)
    x, info, n_matvec = cg(xp, -A, b)  # negative definite: breakdown at the first step
    assert (info, n_matvec) == (-1, 1)
    x, info, n_matvec = cg(xp, A, xp.zeros(10, dtype=xp.float64))
    assert (info, n_matvec) == (0, 0)
    assert_array_equal(to_numpy(x), np.zeros(10))


def test_cg_preconditioner(xp):
    d = np.geomspace(1.0, 1e4, 20)
    b = np.random.default_rng(11).standard_normal(20)
    A = _as(xp, np.diag(d))
    _, info, plain = cg(xp, A, _as(xp, b))
    x, info_p, pre = cg(xp, A, _as(xp, b), M=_as(xp, np.diag(1.0 / d)))
    assert info == info_p == 0
    assert pre == 1 < plain
    assert_allclose(to_numpy(x), b / d, rtol=1e-10)


def test_cg_bad_input(xp):
    A = _as(xp, np.eye(3))
    with pytest.raises(ValueError, match="b must be a 1-D"):
        cg(xp, A, _as(xp, np.ones((3, 1))))
    with pytest.raises(ValueError, match="shape"):
        cg(xp, A, _as(xp, np.ones(4)))
    with pytest.raises(ValueError, match="tol"):
        cg(xp, A, _as(xp, np.ones(3)), tol=-1.0)
    with pytest.raises(ValueError, match="max_iter"):
        cg(xp, A, _as(xp, np.ones(3)), max_iter=-1)
    with pytest.raises(ValueError, match="x0"):
        cg(xp, A, _as(xp, np.ones(3)), x0=_as(xp, np.ones(2)))


# --------------------------------------------------------------------------------------
# sparse matrices and matmul
# --------------------------------------------------------------------------------------


def _random_coo(n_rows, n_cols, nnz, seed):
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n_rows, nnz)
    cols = rng.integers(0, n_cols, nnz)
    vals = rng.standard_normal(nnz)
    dense = np.zeros((n_rows, n_cols))
    np.add.at(dense, (rows, cols), vals)
    return rows, cols, vals, dense


def test_sparse_from_coo_and_matmul(xp):
    rows, cols, vals, dense = _random_coo(7, 5, 40, seed=12)  # 40 entries: duplicates certain
    A = sparse_from_coo(xp, xp.asarray(rows), xp.asarray(cols), _as(xp, vals), (7, 5))
    if is_numpy_namespace(xp):
        assert is_sparse(A) and A.format == "csr"
        assert A.nnz == len(set(zip(rows.tolist(), cols.tolist(), strict=True)))  # summed
    assert_allclose(to_numpy(to_dense(A)), dense, rtol=1e-12, atol=1e-14)
    v = np.random.default_rng(13).standard_normal(5)
    Av = matmul(A, _as(xp, v))
    assert_allclose(to_numpy(Av), dense @ v, rtol=1e-12, atol=1e-12)
    V = np.random.default_rng(14).standard_normal((5, 3))
    assert_allclose(to_numpy(matmul(A, _as(xp, V))), dense @ V, rtol=1e-12, atol=1e-12)


def test_sparse_from_coo_float32_and_bounds(xp):
    rows, cols = xp.asarray([0, 1, 1]), xp.asarray([1, 0, 0])
    A = sparse_from_coo(xp, rows, cols, _as(xp, [1.0, 2.0, 3.0], "float32"), (2, 2))
    assert to_numpy(to_dense(A)).dtype == np.float32
    assert_array_equal(to_numpy(to_dense(A)), [[0.0, 1.0], [5.0, 0.0]])
    with pytest.raises(IndexError, match="rows"):
        sparse_from_coo(xp, xp.asarray([0, 2]), xp.asarray([0, 0]), _as(xp, [1.0, 1.0]), (2, 2))
    with pytest.raises(ValueError, match="equal length"):
        sparse_from_coo(xp, xp.asarray([0]), xp.asarray([0, 0]), _as(xp, [1.0, 1.0]), (2, 2))


def test_matmul_dense_all_kinds(xp):
    M = np.arange(6.0).reshape(2, 3)
    v = np.array([1.0, -1.0, 2.0])
    out = matmul(_as(xp, M, "float32"), _as(xp, v, "float32"))
    _same_namespace_and_dtype(xp, out, "float32")
    assert_allclose(to_numpy(out), M @ v)
    assert_allclose(to_numpy(matmul(lambda u: 2.0 * u, _as(xp, v))), 2 * v)


def test_matmul_sparse_scipy_types():
    M = np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]])
    v = np.array([1.0, 2.0, 3.0])
    for A in (sp.csr_matrix(M), sp.csr_array(M), sp.coo_array(M), spla.aslinearoperator(M)):
        out = matmul(A, v)
        assert isinstance(out, np.ndarray) and out.shape == (2,)
        assert_allclose(out, M @ v)


def test_matmul_rejects_mixed_libraries():
    import array_api_strict as xs

    with pytest.raises(TypeError, match="NumPy"):
        matmul(sp.eye(2, format="csr"), xs.ones(2))
    with pytest.raises(TypeError, match="A must be"):
        matmul(object(), np.ones(2))


# --------------------------------------------------------------------------------------
# scatter_add
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_scatter_add_repeated_indices(xp, dtype):
    rng = np.random.default_rng(15)
    idx = rng.integers(0, 6, 50)
    vals = rng.standard_normal(50)
    ref = np.zeros(6)
    np.add.at(ref, idx, vals)
    out = scatter_add(xp, 6, xp.asarray(idx), _as(xp, vals, dtype))
    _same_namespace_and_dtype(xp, out, dtype)
    assert_allclose(to_numpy(out), ref, rtol=RTOL[dtype] * 10, atol=RTOL[dtype] * 10)


def test_scatter_add_into_target_is_functional(xp):
    target = _as(xp, [10.0, 20.0, 30.0], "float32")
    out = scatter_add(xp, target, xp.asarray([2, 2, 0]), _as(xp, [1.0, 2.0, 3.0]))
    _same_namespace_and_dtype(xp, out, "float32")  # target's dtype wins
    assert_array_equal(to_numpy(out), [13.0, 20.0, 33.0])
    assert_array_equal(to_numpy(target), [10.0, 20.0, 30.0])  # not modified


def test_scatter_add_rows(xp):
    idx = np.array([1, 0, 1, 3])
    vals = np.arange(12.0).reshape(4, 3)
    ref = np.zeros((4, 3))
    np.add.at(ref, idx, vals)
    out = scatter_add(xp, 4, xp.asarray(idx), _as(xp, vals))
    assert out.shape == (4, 3)
    assert_allclose(to_numpy(out), ref)


def test_scatter_add_chunked_fallback(monkeypatch):
    import array_api_strict as xs

    monkeypatch.setattr(B, "_ONEHOT_BUDGET", 7)  # 5 rows -> chunks of 1 index
    idx = np.array([4, 0, 4, 2, 2, 2, 1])
    vals = np.arange(1.0, 8.0)
    ref = np.zeros(5)
    np.add.at(ref, idx, vals)
    assert_allclose(to_numpy(scatter_add(xs, 5, xs.asarray(idx), xs.asarray(vals))), ref)


def test_scatter_add_bounds_and_shapes(xp):
    vals = _as(xp, [1.0, 1.0])
    with pytest.raises(IndexError, match=r"\[0, 3\)"):
        scatter_add(xp, 3, xp.asarray([0, 3]), vals)
    with pytest.raises(IndexError):
        scatter_add(xp, 3, xp.asarray([0, -1]), vals)
    with pytest.raises(TypeError, match="integer"):
        scatter_add(xp, 3, _as(xp, [0.0, 1.0]), vals)
    with pytest.raises(ValueError, match="leading dimension"):
        scatter_add(xp, 3, xp.asarray([0, 1, 2]), vals)
    with pytest.raises(ValueError, match="does not match"):
        scatter_add(xp, _as(xp, np.zeros((3, 2))), xp.asarray([0, 1]), vals)
    empty = scatter_add(xp, 3, xp.asarray(np.zeros(0, dtype=np.int64)), _as(xp, np.zeros(0)))
    assert_array_equal(to_numpy(empty), np.zeros(3))


# --------------------------------------------------------------------------------------
# array_api_strict devices: no hidden host transfer
# --------------------------------------------------------------------------------------


def test_generic_paths_stay_on_device():
    import array_api_strict as xs

    dev = xs.Device("device1")
    A = xs.asarray(_spd(5, seed=16), device=dev)
    b = xs.asarray(np.arange(1.0, 6.0), device=dev)
    for out in (
        solve(xs, A, b),
        solve(xs, A, b, assume_a="pos"),
        cg(xs, A, b)[0],
        scatter_add(xs, 5, xs.asarray([0, 0, 4], device=dev), b[:3]),
        norm(xs, b),
        eigh(xs, A)[1],
    ):
        assert out.device == dev
    x = cg(xs, A, b)[0]
    assert_allclose(to_numpy(x), np.linalg.solve(_spd(5, seed=16), np.arange(1.0, 6.0)), rtol=1e-9)


def test_float32_device_no_float64():
    import array_api_strict as xs

    dev = xs.Device("no_float64")
    A = xs.asarray(_spd(4, seed=17), dtype=xs.float32, device=dev)
    b = xs.asarray(np.ones(4), dtype=xs.float32, device=dev)
    x, info, _ = cg(xs, A, b, tol=1e-5)
    assert info == 0 and x.dtype == xs.float32
    assert solve(xs, A, b, assume_a="pos").dtype == xs.float32


# --------------------------------------------------------------------------------------
# CuPy-specific paths (run only where a CUDA GPU is present)
# --------------------------------------------------------------------------------------


@pytest.mark.gpu
def test_cupy_sparse_scatter_cg():  # pragma: no cover - needs a GPU
    cupy = pytest.importorskip("cupy")
    import cupyx.scipy.sparse as csp

    xp = get_namespace(cupy.ones(1))
    assert is_cupy_namespace(xp)
    rows, cols, vals, dense = _random_coo(6, 6, 30, seed=18)
    A = sparse_from_coo(xp, cupy.asarray(rows), cupy.asarray(cols), cupy.asarray(vals), (6, 6))
    assert csp.issparse(A) and is_sparse(A)
    assert get_namespace(A, cupy.ones(6)) is xp
    v = np.arange(6.0)
    assert_allclose(to_numpy(matmul(A, cupy.asarray(v))), dense @ v, rtol=1e-12, atol=1e-12)
    assert_allclose(to_numpy(A), dense, rtol=1e-12, atol=1e-14)
    S = _spd(6, seed=19)
    Ssp = sparse_from_coo(
        xp,
        cupy.asarray(np.repeat(np.arange(6), 6)),
        cupy.asarray(np.tile(np.arange(6), 6)),
        cupy.asarray(S.ravel()),
        (6, 6),
    )
    x, info, n_matvec = cg(xp, Ssp, cupy.asarray(v))
    assert info == 0 and n_matvec <= 8
    assert_allclose(to_numpy(x), np.linalg.solve(S, v), rtol=1e-8)
    assert_allclose(to_numpy(solve(xp, Ssp, cupy.asarray(v))), np.linalg.solve(S, v), rtol=1e-8)
    # complex scatter_add is split into real and imaginary atomics
    out = scatter_add(xp, 3, cupy.asarray([0, 0, 2]), cupy.asarray([1 + 1j, 2 - 3j, 1j]))
    assert_allclose(to_numpy(out), [3 - 2j, 0, 1j])
