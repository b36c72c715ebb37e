public class Legacy {
    static void legacyHelper(int IGNORED_BY_GITIGNORE) {}
}
