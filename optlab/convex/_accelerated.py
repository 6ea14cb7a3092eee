"""Placeholder until the solver lands (replaced by its implementation)."""


def accelerated_gradient(*args, **kwargs):
    raise NotImplementedError("accelerated_gradient is being written")
