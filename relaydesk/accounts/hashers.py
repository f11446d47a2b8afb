"""Password hashing parameters sized for a helpdesk process, not a password vault.

Django's Argon2 default asks for 100 MiB per hash; four agents signing in at the same
moment pushed the embedded server past 500 MB. These are OWASP's recommended Argon2id
parameters (19 MiB, 2 passes, 1 lane). Existing hashes keep verifying (the parameters
are stored in each hash) and are upgraded on the next sign-in.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class RelaydeskArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
