public class Old {
    static void legacyHelper(int IGNORED_BY_EXCLUDE) {}
}
