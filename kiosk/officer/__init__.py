"""What the officer booth needs from the kiosk: referrals to review and resolve.

``kiosk.officer.referrals`` defines the :class:`~kiosk.officer.referrals.ReferralSource`
interface and its records; ``local`` reads the kiosk's own database (a standalone kiosk),
``remote`` talks to the central server's officer API. Import from the modules.
"""
