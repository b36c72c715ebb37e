# Python settings module with planted secrets (all fake, generated for the tests).
OPENAI_API_KEY = "sk-proj-Xb7Rk2PqL9vT4mN8sW1zY6cA3dF5gH0jK2lM4nP6qR8"
DASHSCOPE_KEY = "sk-4f9c2a7e1b8d3f6a0c5e9b2d7f1a4c8e"
ANTHROPIC = "sk-ant-api03-Zq8Wv3Lm5Np7Rt9Xy2Ab4Cd6Ef8Gh0Ij1Kl3Mn5Op"
db_password = "hunter2-but-longer!"
GITHUB_TOKEN = "ghp_R4nd0mT0k3nV4lu3F0rT3st1ngXy9Zq8Wv7Ut6"
AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7QWERTYZ"
aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY9"
session = connect("postgres://admin:S3cr3tPa55@db.internal:5432/app")
client_secret = 'Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0'
SIGNING = "a8Fj2Kd9Lq3Zx7Vb1Nm5Qw4Er6Ty0Ui8Op2As3Df"
