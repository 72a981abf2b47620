"""Small Q "networks" given by a table, shared by the tests of the DQN targets and loss."""
import torch
from torch import nn


class TableQ(nn.Module):
    """Q(s, ·) = table[s] for 'observations' that are one-hot-free integer ids in obs[:, 0]."""

    def __init__(self, table):
        super().__init__()
        self.table = nn.Parameter(torch.as_tensor(table, dtype=torch.float32))

    def forward(self, obs):
        return self.table[obs[:, 0].long()]


ONLINE = [[1.0, 5.0, 2.0], [0.0, -1.0, 3.0], [4.0, 4.5, 0.0]]     # Q_θ(s', ·)
TARGET = [[2.0, 1.0, 7.0], [6.0, 0.5, -2.0], [1.0, 3.0, 2.0]]     # Q_θ⁻(s', ·)
