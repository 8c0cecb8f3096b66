"""Keeping windows filled without cron: the daily request hook (``hook``), the run it
starts (``daily``), the background pool (``pool``) and what operators ask of it (``operator``)."""
