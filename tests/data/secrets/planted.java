class Keys {
    // Java with a planted private key and token.
    static final String TOKEN = "ghs_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
    static final String PRIVATE_KEY = """
        -----BEGIN RSA PRIVATE KEY-----
        MIIEpAIBAAKCAQEA7bq98x2f3kL9mN0pQ1rS2tU3vW4xY5zA6bC7dE8fG9hI0jK1
        lM2nO3pQ4rS5tU6vW7xY8zA9bC0dE1fG2hI3jK4lM5nO6pQ7rS8tU9vW0xY1zA2b
        -----END RSA PRIVATE KEY-----
        """;
    String secret = "q8W3e7R1t5Y9u2I6o0P4a8S3d7F1g5H9";
}
