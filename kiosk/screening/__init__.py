"""Screening of travellers: lost and stolen documents, the person watchlist and the advance
passenger manifest."""
