"""optlab: a theory-and-verification lab for numerical optimization.

Reference solvers return a :class:`~optlab.result.Result` (compatible with
``scipy.optimize.OptimizeResult``) carrying a per-iteration ``history``;
:mod:`optlab.rates` turns histories into measured rates and :mod:`optlab.claims`
compares them with the papers.
"""

import logging

from .result import Result

__version__ = "0.1.0"
__all__ = ["Result", "__version__"]

logging.getLogger("optlab").addHandler(logging.NullHandler())
