"""Insights: what is emerging, what drives NPS/CSAT, whether a shipped fix worked, who is at risk.

A stage of its own above ``loop`` (it reads actions and notifications) and below ``engine``. Every
analysis reads theme membership through the one definition in ``themes`` (evidence), and every
figure it returns carries its count and, where estimated, an interval.
"""
