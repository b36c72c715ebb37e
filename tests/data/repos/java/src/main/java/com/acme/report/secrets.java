class Secrets {
    static void legacyHelper(int IGNORED_AS_SENSITIVE) {}
}
