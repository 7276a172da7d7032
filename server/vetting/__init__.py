"""Pre-arrival vetting at the regional agency: airlines' API (UN/EDIFACT PAXLST) and PNR
(PNRGOV) messages are ingested, every traveller is screened against the regional and
national lists and the analysts' risk rules, and the vetted manifest of each arriving flight
goes to the kiosks of the port of arrival."""
