from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, make_password

from relaydesk.accounts.hashers import RelaydeskArgon2PasswordHasher


def test_hashes_use_the_small_memory_profile_and_verify():
    hasher = RelaydeskArgon2PasswordHasher()
    encoded = hasher.encode("correct-horse-battery", hasher.salt())
    assert "m=19456,t=2,p=1" in encoded
    assert hasher.verify("correct-horse-battery", encoded)
    assert not hasher.verify("wrong", encoded)


def test_hashes_made_with_django_defaults_still_verify_and_are_upgraded(settings):
    settings.PASSWORD_HASHERS = ["relaydesk.accounts.hashers.RelaydeskArgon2PasswordHasher"]
    old = make_password("correct-horse-battery", hasher=Argon2PasswordHasher())
    assert "m=102400" in old
    upgraded: list[str] = []
    assert check_password("correct-horse-battery", old, setter=upgraded.append)
    assert upgraded == ["correct-horse-battery"]
