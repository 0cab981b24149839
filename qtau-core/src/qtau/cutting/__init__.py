"""Circuits wider than any one resource: QDREAMER cuts them and runs the pieces across backends.

`plan_cut` finds gate and wire cuts with qiskit-addon-cutting's cut finder for the widest
resource QDREAMER can place the pieces on, and prices the subexperiments with the service's own
quote before anything is sent. `run_cut` submits the subexperiments as ordinary QTAU tasks (so
QDREAMER places each one, with failover, budgets, coalescing into backend batches and the journal),
then reconstructs the expectation values with a bootstrap error bar and each piece's provenance.
Qiskit and the add-on are imported only here, inside the functions (`pip install
qtau-core[cutting]`); docs/cutting.md is the user's guide.
"""

from qtau.cut_options import CutOptions, cut_options
from qtau.cutting.plan import CutPlan, plan_cut
from qtau.cutting.run import CutPiece, CutResult, run_cut

__all__ = ["CutOptions", "CutPiece", "CutPlan", "CutResult", "cut_options", "plan_cut", "run_cut"]
