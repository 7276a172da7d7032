"""Test PKI of simulated states: CSCAs, link and DS certificates, CRLs, master lists."""
