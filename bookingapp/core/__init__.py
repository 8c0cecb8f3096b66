"""The pure core: schedules to slots (DST included), weekly hours, the window rule, span
overlap, the day-boundary rule, the edit diff, the clock, tokens. Standard library and
zoneinfo only: nothing here imports Flask, SQLAlchemy, Redis or the rest of the app."""
