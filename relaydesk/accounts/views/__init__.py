"""HTML screens for people: your profile, invitations, and the administration of people, teams and taxonomy.

One module per screen; each view is thin: parse a form, call one action, render or redirect.
"""
