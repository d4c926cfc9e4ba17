"""Inverse problems for heat conduction: -(a u')' = f (the lab's Problems 1 and 2) and u_t = (nu u_x)_x (Problem 3).

numpy, scipy and matplotlib only; nothing here imports torch, Lightning or music21.
"""

from heat_inverse.conductivity import ConductivityResult, solve_conductivity
from heat_inverse.noisy import noisy_problem2
from heat_inverse.problem3 import problem3
from heat_inverse.problems import critical_eps, problem1, problem2

__all__ = [
    "ConductivityResult",
    "critical_eps",
    "noisy_problem2",
    "problem1",
    "problem2",
    "problem3",
    "solve_conductivity",
]
