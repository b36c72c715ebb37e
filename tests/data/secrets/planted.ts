// TypeScript config with planted secrets.
export const config = {
  apiKey: "AIzaSyD4fK9mQ2xV7bN1pL8rT3wZ6yH0jC5sE4u",
  stripeKey: "sk_live_51HxYzAbCdEfGhIjKlMnOpQr",
  slack: "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
  jwt: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
  authToken: 'tok_9f8e7d6c5b4a3210fedcba98',
};
const password = `P@ssw0rd-Spring-2026`;
