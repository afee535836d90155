"""What a spirit holds and how its pipeline is doing, in figures: one selector for the curator's
console (memories.admin.console) and GET /api/v1/spirits/{id}/stats/ (memories.api).

It reads every app's rows (events, memories, dreams, audit) and the pipeline's status, so it sits
in the retrieval layer, above the pipeline wing (.importlinter). Every part runs a fixed number of
queries, whatever the spirit holds (GROUP BY, never a query per row):

- `spirit_overview(spirit, days=..., dreams=...)`: the counts (events, sessions, memories,
  knowledge and lessons by type, tier and status), the pipeline's figures, and on request the
  series per day and the latest dreams with their actions (overview);
- `teams_overview(team_ids)`: the spirits of some teams with their counts and pipeline health,
  for the admin index (teams).
"""

from .overview import spirit_overview
from .teams import teams_overview

__all__ = ["spirit_overview", "teams_overview"]
