"""The ``symhess`` command line (click): one module per subcommand, registered on :func:`main`.

Place in the package: outputs, the command line (may import everything). Each subcommand module imports its
heavy dependencies inside the command function, so ``symhess --help`` stays fast.
"""

from ._common import main
from . import report  # noqa: F401  (registers `symhess report`)
from . import count  # noqa: F401  (registers `symhess count`)
from . import derive  # noqa: F401  (registers `symhess derive`)
from . import paper  # noqa: F401  (registers `symhess paper`)
from . import check  # noqa: F401  (registers `symhess check`)
from . import sweep  # noqa: F401  (registers `symhess sweep`)
from . import spectrum  # noqa: F401  (registers `symhess spectrum`)
from . import train  # noqa: F401  (registers `symhess train`)
from . import sgd  # noqa: F401  (registers `symhess sgd`)

__all__ = ["main"]
