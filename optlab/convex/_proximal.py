"""Placeholder until the solver lands (replaced by its implementation)."""


def proximal_gradient(*args, **kwargs):
    raise NotImplementedError("proximal_gradient is being written")
