"""Placeholder until the solver lands (replaced by its implementation)."""


def lazy_cubic_newton(*args, **kwargs):
    raise NotImplementedError("lazy_cubic_newton is being written")
