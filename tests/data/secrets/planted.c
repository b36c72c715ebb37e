/* C with planted secrets */
static const char *access_key = "ASIAY34FZKBOKMUTVV7A";
static const char *auth_secret = "c2VjcmV0LWF1dGgtdmFsdWUtZm9yLXRlc3Rz";
