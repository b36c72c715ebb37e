"""A corpus of planted secrets in the shapes real repositories leak them, made at test time.

`build_corpus(seed)` writes files in many languages and formats (Python, TypeScript, Go, Java,
shell, YAML, INI, .properties, XML, JSON, Terraform, Dockerfile, GitHub Actions, GitLab CI,
.env, .npmrc, SQL) holding secrets of many shapes: cloud AccessKey pairs (Alibaba, Tencent,
Huawei, Baidu, Volcengine, AWS, Azure), API tokens (OpenAI, DashScope, GitHub, Hugging Face,
npm, PyPI, Twilio, SendGrid, Mailgun, ...), passwords assigned, passed as arguments, written
unquoted in settings files or in comments (English and Chinese), connection strings,
Authorization headers, command lines and Kubernetes Secret data.

Every value is random, drawn from `random.Random(seed)` when the corpus is built, so no real or
real-looking key is ever committed (scanners and push protection would rightly flag it), and
every run of the benchmark can draw new ones. Each `Planted` records its exact value: a secret
is caught when its value no longer occurs in the redacted text.
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Iterator
from dataclasses import dataclass, field

LOWER = string.ascii_lowercase
UPPER = string.ascii_uppercase
DIGITS = string.digits
ALNUM = LOWER + UPPER + DIGITS
HEX = "0123456789abcdef"
# Symbols real passwords hold that every format here keeps as they are, also in a URL's user
# part and unquoted in YAML, INI and shell.
SYMBOLS = "!*-_.~+"
# Split so that no scanner takes this source file for a key.
_PEM = "-----" + "BEGIN {0}PRIVATE KEY" + "-----", "-----" + "END {0}PRIVATE KEY" + "-----"


@dataclass(frozen=True)
class Planted:
    shape: str  # what kind of secret, in what form: "alibaba-access-key-secret", ...
    value: str  # the exact text that must not survive redaction


@dataclass
class CorpusFile:
    name: str  # a path as a repository would hold it
    language: str
    text: str = ""
    planted: list[Planted] = field(default_factory=list)

    def plant(self, shape: str, value: str) -> str:
        self.planted.append(Planted(shape, value))
        return value


class Values:
    """Random values in the shapes of real keys, tokens and passwords."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seen: set[str] = set()

    def _unique(self, make: callable) -> str:  # type: ignore[valid-type]
        while True:
            value = make()
            if value not in self.seen:
                self.seen.add(value)
                return value

    def chars(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def mixed(self, alphabet: str, n: int) -> str:
        """`n` characters of `alphabet` holding each of its classes (as real keys do)."""
        classes = [c for c in (LOWER, UPPER, DIGITS) if set(c) & set(alphabet)]

        def make() -> str:
            while True:
                value = self.chars(alphabet, n)
                if all(set(value) & set(c) for c in classes):
                    return value

        return self._unique(make)

    def alnum(self, n: int) -> str:
        return self.mixed(ALNUM, n)

    def upper_alnum(self, n: int) -> str:
        return self.mixed(UPPER + DIGITS, n)

    def hex(self, n: int) -> str:
        return self.mixed(HEX, n)

    def b64(self, nbytes: int) -> str:
        return self._unique(lambda: base64.b64encode(self.rng.randbytes(nbytes)).decode())

    def b64url(self, n: int) -> str:
        return self.mixed(ALNUM + "-_", n)

    def password(self) -> str:
        """10 to 16 characters: letters, digits and a symbol or two, starting with a letter."""

        def make() -> str:
            while True:
                n = self.rng.randint(10, 16)
                body = self.chars(ALNUM + SYMBOLS * 2, n - 2)
                value = self.rng.choice(LOWER + UPPER) + body + self.rng.choice(ALNUM)
                if (
                    set(value) & set(LOWER)
                    and set(value) & set(UPPER)
                    and set(value) & set(DIGITS)
                    and set(value) & set(SYMBOLS)
                ):
                    return value

        return self._unique(make)

    def b64_of(self, text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    # -- known shapes --------------------------------------------------------------------

    def openai(self) -> str:
        return "sk-proj-" + self.b64url(48)

    def dashscope(self) -> str:
        return "sk-" + self.hex(32)

    def anthropic(self) -> str:
        return "sk-ant-api03-" + self.b64url(93) + "AA"

    def github(self) -> str:
        return "ghp_" + self.alnum(36)

    def github_fine_grained(self) -> str:
        return "github_pat_" + self.alnum(22) + "_" + self.alnum(59)

    def gitlab(self) -> str:
        return "glpat-" + self.b64url(20)

    def aws_id(self) -> str:
        return "AKIA" + self.upper_alnum(16)

    def aws_secret(self) -> str:
        return self.mixed(ALNUM + "+/", 40)

    def google(self) -> str:
        return "AIza" + self.b64url(35)

    def slack(self) -> str:
        return f"xoxb-{self.chars(DIGITS, 12)}-{self.chars(DIGITS, 13)}-{self.alnum(24)}"

    def slack_webhook_path(self) -> str:
        return f"T{self.upper_alnum(10)}/B{self.upper_alnum(10)}/{self.alnum(24)}"

    def stripe(self) -> str:
        return "sk_" + "live_" + self.alnum(24)

    def jwt(self) -> str:
        def part(data: dict[str, object]) -> str:
            return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

        payload = {"sub": self.alnum(12), "iat": self.rng.randint(1_600_000_000, 1_900_000_000)}
        return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(payload)}.{self.b64url(43)}"

    def private_key(self, kind: str = "RSA ", newline: str = "\n") -> str:
        body = self.b64(64 * 9)
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        begin, end = (p.format(kind) for p in _PEM)
        return newline.join([begin, *lines, end])

    def alibaba_id(self) -> str:
        return "LTAI5t" + self.alnum(18)

    def alibaba_secret(self) -> str:
        return self.alnum(30)

    def tencent_id(self) -> str:
        return "AKID" + self.alnum(32)

    def tencent_key(self) -> str:
        return self.alnum(32)

    def huawei_ak(self) -> str:
        return self.upper_alnum(20)

    def huawei_sk(self) -> str:
        return self.alnum(40)

    def baidu_ak(self) -> str:
        return self.hex(32)

    def baidu_sk(self) -> str:
        return self.hex(32)

    def baidu_api_key(self) -> str:
        return self.alnum(24)

    def volc_ak(self) -> str:
        return "AKLT" + self.alnum(40)

    def volc_sk(self) -> str:
        return self.b64(45)

    def huggingface(self) -> str:
        return "hf_" + self.mixed(LOWER + UPPER, 34)

    def npm(self) -> str:
        return "npm_" + self.alnum(36)

    def pypi(self) -> str:
        return "pypi-" + "AgEIcHlwaS5vcmc" + self.b64url(160)

    def azure_storage_key(self) -> str:
        return self.b64(64)

    def azure_sas_signature(self) -> str:
        raw = self.b64(32)
        return raw.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")

    def azure_service_bus_key(self) -> str:
        return self.b64(32)

    def azure_client_secret(self) -> str:
        return self.alnum(3) + self.chars(DIGITS, 1) + "Q~" + self.mixed(ALNUM + "-_.~", 34)

    def twilio_sid(self) -> str:
        return "AC" + self.hex(32)

    def twilio_token(self) -> str:
        return self.hex(32)

    def twilio_api_key(self) -> str:
        return "SK" + self.hex(32)

    def sendgrid(self) -> str:
        return f"SG.{self.b64url(22)}.{self.b64url(43)}"

    def mailgun(self) -> str:
        return "key-" + self.hex(32)

    def telegram(self) -> str:
        return f"{self.rng.randint(100_000_000, 9_999_999_999)}:AA{self.b64url(33)}"

    def token(self, n: int = 40) -> str:
        return self.alnum(n)

    def django_secret(self) -> str:
        return "django-insecure-" + self.mixed(LOWER + DIGITS + "!@#%^&*-_=+", 50)


def build_corpus(seed: int) -> list[CorpusFile]:
    """The corpus, its values drawn from `seed`."""
    v = Values(seed)
    return [make(v) for make in _FILES]


def shapes(corpus: list[CorpusFile]) -> set[str]:
    return {p.shape for f in corpus for p in f.planted}


def planted(corpus: list[CorpusFile]) -> Iterator[tuple[CorpusFile, Planted]]:
    for f in corpus:
        for p in f.planted:
            yield f, p


# -- the files -------------------------------------------------------------------------------


def _file(name: str, language: str, template: str, **fields: tuple[str, str] | str) -> CorpusFile:
    """A file from `template`: each field is a (shape, value) planted there, or a plain value."""
    f = CorpusFile(name, language)
    values = {
        key: field if isinstance(field, str) else f.plant(*field) for key, field in fields.items()
    }
    f.text = template.format(**values)
    return f


def _python(v: Values) -> CorpusFile:
    template = """\
# Service settings.
import os

import boto3
import requests
from requests.auth import HTTPBasicAuth

OPENAI_API_KEY = "{openai}"
DASHSCOPE_API_KEY = "{dashscope}"
ANTHROPIC_API_KEY = '{anthropic}'
db_password = "{db_password}"
SECRET_KEY = "{django}"
AWS_ACCESS_KEY_ID = "{aws_id}"
AWS_SECRET_ACCESS_KEY = "{aws_secret}"
DATABASE_URL = "postgres://app:{db_url_password}@db.internal:5432/app"
REDIS_URL = f"redis://:{redis_password}@cache.internal:6379/0"
SIGNING = "{signing}"
HF_TOKEN = "{hf}"
MAILGUN_API_KEY = "{mailgun}"
TELEGRAM_BOT = "{telegram}"

s3 = boto3.client(
    "s3",
    aws_access_key_id="{aws_id2}",
    aws_secret_access_key="{aws_secret2}",
)


def connect_db():
    return psycopg2.connect(host="db", user="app", password="{kw_password}")


llm = Client(api_key="{kw_api_key}")
session.login("admin", "{login_password}")
requests.get("https://ci.internal/api", auth=("deploy", "{auth_password}"))
basic = HTTPBasicAuth("ci-bot", "{basic_password}")
headers = {{"Authorization": "Bearer {bearer}"}}
legacy = {{"Authorization": "Basic {basic}"}}

# 密码: {comment_password_zh}
# token：{comment_token_zh}
# password: {comment_password}

acs = AcsClient(
    "{alibaba_id}",
    "{alibaba_secret}",
    "cn-hangzhou",
)
cred = credential.Credential("{tencent_id}", "{tencent_key}")
huawei = (
    BasicCredentials()
    .with_ak("{huawei_ak}")
    .with_sk("{huawei_sk}")
)
bce = BceCredentials("{baidu_ak}", "{baidu_sk}")
VOLC_ACCESSKEY = "{volc_ak}"
VOLC_SECRETKEY = "{volc_sk}"
twilio = Client("{twilio_sid}", "{twilio_token}")
sg = SendGridAPIClient("{sendgrid}")
os.environ["GITHUB_TOKEN"] = "{github}"
os.environ.setdefault("STRIPE_API_KEY", "{stripe}")
"""
    return _file(
        "app/settings.py",
        "python",
        template,
        openai=("openai-key", v.openai()),
        dashscope=("dashscope-key", v.dashscope()),
        anthropic=("anthropic-key", v.anthropic()),
        db_password=("password-assignment", v.password()),
        django=("django-secret-key", v.django_secret()),
        aws_id=("aws-access-key-id", v.aws_id()),
        aws_secret=("aws-secret-access-key", v.aws_secret()),
        db_url_password=("url-credentials", v.password()),
        redis_password=("url-credentials", v.password()),
        signing=("high-entropy-string", v.token(40)),
        hf=("huggingface-token", v.huggingface()),
        mailgun=("mailgun-key", v.mailgun()),
        telegram=("telegram-bot-token", v.telegram()),
        aws_id2=("aws-access-key-id", v.aws_id()),
        aws_secret2=("aws-secret-access-key", v.aws_secret()),
        kw_password=("keyword-argument", v.password()),
        kw_api_key=("keyword-argument", v.token(40)),
        login_password=("password-argument", v.password()),
        auth_password=("password-argument", v.password()),
        basic_password=("password-argument", v.password()),
        bearer=("bearer-header", v.token(40)),
        basic=("basic-header", v.b64_of("admin:" + v.password())),
        comment_password_zh=("comment-secret-chinese", v.password()),
        comment_token_zh=("comment-secret-chinese", v.token(32)),
        comment_password=("comment-secret", v.password()),
        alibaba_id=("alibaba-access-key-id", v.alibaba_id()),
        alibaba_secret=("alibaba-access-key-secret", v.alibaba_secret()),
        tencent_id=("tencent-secret-id", v.tencent_id()),
        tencent_key=("tencent-secret-key", v.tencent_key()),
        huawei_ak=("huawei-access-key", v.huawei_ak()),
        huawei_sk=("huawei-secret-key", v.huawei_sk()),
        baidu_ak=("baidu-access-key", v.baidu_ak()),
        baidu_sk=("baidu-secret-key", v.baidu_sk()),
        volc_ak=("volcengine-access-key-id", v.volc_ak()),
        volc_sk=("volcengine-secret-key", v.volc_sk()),
        twilio_sid=("twilio-account-sid", v.twilio_sid()),
        twilio_token=("twilio-auth-token", v.twilio_token()),
        sendgrid=("sendgrid-key", v.sendgrid()),
        github=("github-token", v.github()),
        stripe=("stripe-key", v.stripe()),
    )


def _typescript(v: Values) -> CorpusFile:
    template = """\
// Client configuration.
import OpenAI from "openai";

export const config = {{
  apiKey: "{google}",
  stripeKey: "{stripe}",
  slackToken: "{slack}",
  session: "{jwt}",
  githubToken: "{github}",
  clientSecret: '{client_secret}',
}};

const openai = new OpenAI({{ apiKey: "{openai}" }});
const transporter = nodemailer.createTransport({{
  host: "smtp.internal",
  auth: {{ user: "mailer", pass: "{smtp_pass}" }},
}});
const headers = {{ Authorization: `Bearer {bearer}` }};
await mongoose.connect("mongodb+srv://admin:{mongo_password}@cluster0.db.internal/app");
await axios.get(url, {{ auth: {{ username: "api", password: "{axios_password}" }} }});
// 密钥：{comment_zh}
const NPM_TOKEN = "{npm}";
const ses = new SESClient({{
  credentials: {{
    accessKeyId: "{aws_id}",
    secretAccessKey: "{aws_secret}",
  }},
}});
const password = `{template_password}`;
const sendgridKey: string = "{sendgrid}";
"""
    return _file(
        "web/src/config.ts",
        "typescript",
        template,
        google=("google-api-key", v.google()),
        stripe=("stripe-key", v.stripe()),
        slack=("slack-token", v.slack()),
        jwt=("jwt", v.jwt()),
        github=("github-fine-grained-token", v.github_fine_grained()),
        client_secret=("password-assignment", v.password()),
        openai=("openai-key", v.openai()),
        smtp_pass=("password-assignment", v.password()),
        bearer=("bearer-header", v.token(48)),
        mongo_password=("url-credentials", v.password()),
        axios_password=("password-assignment", v.password()),
        comment_zh=("comment-secret-chinese", v.token(32)),
        npm=("npm-token", v.npm()),
        aws_id=("aws-access-key-id", v.aws_id()),
        aws_secret=("aws-secret-access-key", v.aws_secret()),
        template_password=("password-assignment", v.password()),
        sendgrid=("sendgrid-key", v.sendgrid()),
    )


def _go(v: Values) -> CorpusFile:
    template = """\
package main

import (
	"database/sql"
	"net/http"
	"os"
)

const apiKey = "{dashscope}"

var password string = "{password}"

func open() (*sql.DB, error) {{
	return sql.Open("mysql", "root:{dsn_password}@tcp(127.0.0.1:3306)/app")
}}

func call(req *http.Request) {{
	req.Header.Set("Authorization", "Bearer {bearer}")
	creds := credentials.NewStaticCredentials(
		"{aws_id}", "{aws_secret}", "")
	client, _ := sdk.NewClientWithAccessKey(
		"cn-hangzhou", "{alibaba_id}", "{alibaba_secret}")
	cred := common.NewCredential("{tencent_id}", "{tencent_key}")
	cfg := Config{{Password: "{struct_password}", Token: "{gitlab}"}}
	os.Setenv("GITHUB_TOKEN", "{github}")
	os.Setenv("DB_PASSWORD", "{setenv_password}")
	_ = creds; _ = client; _ = cred; _ = cfg
}}
// password: {comment_password}
"""
    return _file(
        "cmd/server/main.go",
        "go",
        template,
        dashscope=("dashscope-key", v.dashscope()),
        password=("password-assignment", v.password()),
        dsn_password=("go-dsn", v.password()),
        bearer=("bearer-header", v.token(40)),
        aws_id=("aws-access-key-id", v.aws_id()),
        aws_secret=("aws-secret-access-key", v.aws_secret()),
        alibaba_id=("alibaba-access-key-id", v.alibaba_id()),
        alibaba_secret=("alibaba-access-key-secret", v.alibaba_secret()),
        tencent_id=("tencent-secret-id", v.tencent_id()),
        tencent_key=("tencent-secret-key", v.tencent_key()),
        struct_password=("password-assignment", v.password()),
        gitlab=("gitlab-token", v.gitlab()),
        github=("github-token", v.github()),
        setenv_password=("keyed-value", v.password()),
        comment_password=("comment-secret", v.password()),
    )


def _java(v: Values) -> CorpusFile:
    template = """\
package app;

class Db {{
    private static final String DB_PASSWORD = "{password}";
    private static final String TOKEN = "{hf}";

    Connection open() throws SQLException {{
        Connection a = DriverManager.getConnection(
            "jdbc:mysql://db:3306/app?user=app&password={jdbc_password}");
        Connection b = DriverManager.getConnection(url, "app", "{argument_password}");
        String mssql =
            "jdbc:sqlserver://db:1433;databaseName=app;user=sa;password={mssql_password};";
        DataSource ds = DataSourceBuilder.create()
            .username("app").password("{builder_password}").build();
        props.setProperty("mail.smtp.password", "{property_password}");
        OSS oss = new OSSClientBuilder().build(endpoint, "{alibaba_id}", "{alibaba_secret}");
        Twilio.init("{twilio_key}", "{twilio_token}");
        // 数据库密码：{comment_zh}
        return a;
    }}
}}
"""
    return _file(
        "src/main/java/app/Db.java",
        "java",
        template,
        password=("password-assignment", v.password()),
        hf=("huggingface-token", v.huggingface()),
        jdbc_password=("jdbc-password", v.password()),
        argument_password=("password-argument", v.password()),
        mssql_password=("jdbc-password", v.password()),
        builder_password=("password-argument", v.password()),
        property_password=("keyed-value", v.password()),
        alibaba_id=("alibaba-access-key-id", v.alibaba_id()),
        alibaba_secret=("alibaba-access-key-secret", v.alibaba_secret()),
        twilio_key=("twilio-api-key", v.twilio_api_key()),
        twilio_token=("twilio-auth-token", v.twilio_token()),
        comment_zh=("comment-secret-chinese", v.password()),
    )


def _shell(v: Values) -> CorpusFile:
    template = """\
#!/usr/bin/env bash
set -euo pipefail
export API_TOKEN={api_token}
export DB_PASSWORD='{db_password}'
PGPASSWORD={pg_password} psql -h db -U app -c 'select 1'
curl -u deploy:{curl_password} https://ci.internal/api
curl -H "Authorization: Bearer {bearer}" https://api.internal/v1
curl -H "Authorization: Basic {basic}" https://api.internal/v2
docker login -u ci -p {docker_password} registry.internal
mysql -u root -p{mysql_password} app < dump.sql
sshpass -p '{sshpass_password}' ssh deploy@host.internal
aliyun configure set --access-key-id {alibaba_id} \\
  --access-key-secret {alibaba_secret}
tool deploy --password={flag_password} --token {flag_token}
export HUAWEICLOUD_SDK_AK={huawei_ak}
export HUAWEICLOUD_SDK_SK={huawei_sk}
export VOLCENGINE_ACCESS_KEY={volc_ak}
export VOLCENGINE_SECRET_KEY={volc_sk}
export TWILIO_AUTH_TOKEN={twilio_token}
export SENDGRID_API_KEY={sendgrid}
# 口令: {comment_zh}
"""
    return _file(
        "scripts/deploy.sh",
        "shellscript",
        template,
        api_token=("env-line", v.hex(32)),
        db_password=("env-line", v.password()),
        pg_password=("env-line", v.password()),
        curl_password=("command-line-password", v.password()),
        bearer=("bearer-header", v.token(40)),
        basic=("basic-header", v.b64_of("ops:" + v.password())),
        docker_password=("command-line-password", v.password()),
        mysql_password=("command-line-password", v.password()),
        sshpass_password=("command-line-password", v.password()),
        alibaba_id=("alibaba-access-key-id", v.alibaba_id()),
        alibaba_secret=("alibaba-access-key-secret", v.alibaba_secret()),
        flag_password=("command-line-password", v.password()),
        flag_token=("command-line-password", v.token(32)),
        huawei_ak=("huawei-access-key", v.huawei_ak()),
        huawei_sk=("huawei-secret-key", v.huawei_sk()),
        volc_ak=("volcengine-access-key-id", v.volc_ak()),
        volc_sk=("volcengine-secret-key", v.volc_sk()),
        twilio_token=("twilio-auth-token", v.twilio_token()),
        sendgrid=("sendgrid-key", v.sendgrid()),
        comment_zh=("comment-secret-chinese", v.password()),
    )


def _yaml(v: Values) -> CorpusFile:
    template = """\
# Application configuration
database:
  host: db.internal
  username: app
  password: {db_password}
  url: mysql://app:{url_password}@db.internal/app
redis:
  password: "{redis_password}"
openai:
  api_key: {openai}
aliyun:
  access_key_id: {alibaba_id}
  access_key_secret: {alibaba_secret}
tencent:
  secret_id: {tencent_id}
  secret_key: {tencent_key}
huawei:
  ak: {huawei_ak}
  sk: {huawei_sk}
baidu:
  api_key: {baidu_api_key}
  secret_key: {baidu_secret}
volcengine:
  access_key: {volc_ak}
  secret_key: {volc_sk}
smtp:
  user: mailer
  pass: {smtp_pass}
wechat:
  appid: wx{appid}
  appsecret: {appsecret}
# 口令：{comment_zh}
"""
    return _file(
        "config/app.yaml",
        "yaml",
        template,
        db_password=("unquoted-setting", v.password()),
        url_password=("url-credentials", v.password()),
        redis_password=("password-assignment", v.password()),
        openai=("openai-key", v.openai()),
        alibaba_id=("alibaba-access-key-id", v.alibaba_id()),
        alibaba_secret=("alibaba-access-key-secret", v.alibaba_secret()),
        tencent_id=("tencent-secret-id", v.tencent_id()),
        tencent_key=("tencent-secret-key", v.tencent_key()),
        huawei_ak=("huawei-access-key", v.huawei_ak()),
        huawei_sk=("huawei-secret-key", v.huawei_sk()),
        baidu_api_key=("baidu-api-key", v.baidu_api_key()),
        baidu_secret=("baidu-secret-key", v.alnum(32)),
        volc_ak=("volcengine-access-key-id", v.volc_ak()),
        volc_sk=("volcengine-secret-key", v.volc_sk()),
        smtp_pass=("unquoted-setting", v.password()),
        appid=v.hex(16),
        appsecret=("wechat-app-secret", v.hex(32)),
        comment_zh=("comment-secret-chinese", v.password()),
    )


def _kubernetes(v: Values) -> CorpusFile:
    password = v.password()
    docker_config = json.dumps({"auths": {"registry.internal": {"auth": v.b64(24)}}})
    template = """\
apiVersion: v1
kind: Secret
metadata:
  name: app-secrets
  namespace: prod
type: Opaque
data:
  username: {username}
  password: {password}
  DB_CONN: {db_conn}
  api-key: {api_key}
  .dockerconfigjson: {docker_config}
stringData:
  smtp-login: {smtp_login}
  webhook: "{webhook}"
"""
    return _file(
        "deploy/k8s/secret.yaml",
        "yaml",
        template,
        username=v.b64_of("app"),
        password=("kubernetes-secret-data", v.b64_of(password)),
        db_conn=("kubernetes-secret-data", v.b64_of(f"postgres://app:{password}@db/app")),
        api_key=("kubernetes-secret-data", v.b64_of(v.token(32))),
        docker_config=("kubernetes-secret-data", v.b64_of(docker_config)),
        smtp_login=("kubernetes-secret-data", v.password()),
        webhook=("kubernetes-secret-data", v.token(40)),
    )


def _ini(v: Values) -> CorpusFile:
    template = """\
[metadata]
name = app

[database]
host = db.internal
user = app
password = {db_password}

[api]
token = {token}
secret_key={secret_key}

[pypi]
username = __token__
password = {pypi}

[mail]
; password = {comment_password}
"""
    return _file(
        "setup.cfg",
        "ini",
        template,
        db_password=("unquoted-setting", v.password()),
        token=("unquoted-setting", v.token(40)),
        secret_key=("unquoted-setting", v.token(40)),
        pypi=("pypi-token", v.pypi()),
        comment_password=("comment-secret", v.password()),
    )


def _properties(v: Values) -> CorpusFile:
    template = """\
spring.datasource.url=jdbc:postgresql://db:5432/app
spring.datasource.username=app
spring.datasource.password={db_password}
aliyun.oss.access-key-id={alibaba_id}
aliyun.oss.access-key-secret={alibaba_secret}
jwt.secret={jwt_secret}
mail.password = {mail_password}
baidu.bce.access-key-id={baidu_ak}
baidu.bce.secret-access-key={baidu_sk}
# 密钥={comment_zh}
"""
    return _file(
        "src/main/resources/application.properties",
        "properties",
        template,
        db_password=("unquoted-setting", v.password()),
        alibaba_id=("alibaba-access-key-id", v.alibaba_id()),
        alibaba_secret=("alibaba-access-key-secret", v.alibaba_secret()),
        jwt_secret=("unquoted-setting", v.token(48)),
        mail_password=("unquoted-setting", v.password()),
        baidu_ak=("baidu-access-key", v.baidu_ak()),
        baidu_sk=("baidu-secret-key", v.baidu_sk()),
        comment_zh=("comment-secret-chinese", v.token(32)),
    )


def _xml(v: Values) -> CorpusFile:
    template = """\
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <appSettings>
    <add key="StorageAccountKey" value="{storage_key}" />
    <add key="ApiToken" value="{api_token}" />
    <add key="Environment" value="production" />
  </appSettings>
  <connectionStrings>
    <add name="Db"
      connectionString="Server=db;Database=app;User Id=sa;Password={db_password};" />
  </connectionStrings>
  <servers>
    <server>
      <id>internal</id>
      <username>deploy</username>
      <password>{server_password}</password>
    </server>
  </servers>
  <bean id="ds" class="org.apache.commons.dbcp2.BasicDataSource">
    <property name="password" value="{bean_password}"/>
  </bean>
  <entry key="api.secret">{api_secret}</entry>
  <!-- password: {comment_password} -->
</configuration>
"""
    return _file(
        "config/web.config",
        "xml",
        template,
        storage_key=("xml-value", v.azure_storage_key()),
        api_token=("xml-value", v.token(40)),
        db_password=("connection-string", v.password()),
        server_password=("xml-value", v.password()),
        bean_password=("xml-value", v.password()),
        api_secret=("xml-value", v.token(40)),
        comment_password=("comment-secret", v.password()),
    )


def _azure_json(v: Values) -> CorpusFile:
    storage = (
        "DefaultEndpointsProtocol=https;AccountName=appstore;AccountKey={storage_key};"
        "EndpointSuffix=core.windows.net"
    )
    service_bus = (
        "Endpoint=sb://app.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;"
        "SharedAccessKey={service_bus_key}"
    )
    sql = (
        "Server=tcp:app.database.windows.net,1433;Initial Catalog=app;User ID=app;"
        "Password={sql_password};Encrypt=True;"
    )
    sas = (
        "https://appstore.blob.core.windows.net/c?sv=2022-11-02&ss=b&srt=co&sp=rl"
        "&se=2031-01-01T00:00:00Z&spr=https&sig={sas}"
    )
    template = f"""\
{{{{
  "ConnectionStrings": {{{{
    "Storage": "{storage}",
    "ServiceBus": "{service_bus}",
    "Sql": "{sql}"
  }}}},
  "AzureAd": {{{{ "TenantId": "{{tenant}}", "ClientSecret": "{{client_secret}}" }}}},
  "Graph": {{{{ "Secret": "{{graph_secret}}" }}}},
  "BlobSasUrl": "{sas}",
  "SendGrid": {{{{ "ApiKey": "{{sendgrid}}" }}}},
  "Twilio": {{{{ "AccountSid": "{{twilio_sid}}", "AuthToken": "{{twilio_token}}" }}}},
  "Slack": {{{{ "Webhook": "https://hooks.slack.com/services/{{slack}}" }}}}
}}}}
"""
    return _file(
        "appsettings.json",
        "json",
        template,
        storage_key=("azure-storage-account-key", v.azure_storage_key()),
        service_bus_key=("azure-service-bus-key", v.azure_service_bus_key()),
        sql_password=("connection-string", v.password()),
        tenant=v.hex(8),
        client_secret=("azure-client-secret", v.azure_client_secret()),
        graph_secret=("azure-client-secret", v.azure_client_secret()),
        sas=("azure-sas-signature", v.azure_sas_signature()),
        sendgrid=("sendgrid-key", v.sendgrid()),
        twilio_sid=("twilio-account-sid", v.twilio_sid()),
        twilio_token=("twilio-auth-token", v.twilio_token()),
        slack=("slack-webhook", v.slack_webhook_path()),
    )


def _service_account(v: Values) -> CorpusFile:
    f = CorpusFile("gcp/service-account.json", "json")
    key = v.private_key("", newline="\n") + "\n"
    document = {
        "type": "service_account",
        "project_id": "app-prod",
        "private_key_id": f.plant("gcp-private-key-id", v.hex(40)),
        "private_key": key,
        "client_email": "app@app-prod.iam.gserviceaccount.com",
    }
    f.text = json.dumps(document, indent=2)
    f.plant("private-key", json.dumps(key)[1:-1])  # as the file spells it: \n escaped
    return f


def _terraform(v: Values) -> CorpusFile:
    template = """\
provider "alicloud" {{
  access_key = "{alibaba_id}"
  secret_key = "{alibaba_secret}"
  region     = "cn-hangzhou"
}}

provider "aws" {{
  region     = "us-east-1"
  access_key = "{aws_id}"
  secret_key = "{aws_secret}"
}}

provider "huaweicloud" {{
  region     = "cn-north-4"
  access_key = "{huawei_ak}"
  secret_key = "{huawei_sk}"
}}

provider "tencentcloud" {{
  secret_id  = "{tencent_id}"
  secret_key = "{tencent_key}"
}}

variable "db_password" {{
  type      = string
  sensitive = true
  default   = "{db_password}"
}}

resource "azurerm_storage_account" "app" {{
  name               = "appstore"
  primary_access_key = "{storage_key}"
}}

resource "github_actions_secret" "deploy" {{
  repository      = "app"
  secret_name     = "DEPLOY_KEY"
  plaintext_value = "{plaintext}"
}}
"""
    return _file(
        "infra/main.tf",
        "terraform",
        template,
        alibaba_id=("alibaba-access-key-id", v.alibaba_id()),
        alibaba_secret=("alibaba-access-key-secret", v.alibaba_secret()),
        aws_id=("aws-access-key-id", v.aws_id()),
        aws_secret=("aws-secret-access-key", v.aws_secret()),
        huawei_ak=("huawei-access-key", v.huawei_ak()),
        huawei_sk=("huawei-secret-key", v.huawei_sk()),
        tencent_id=("tencent-secret-id", v.tencent_id()),
        tencent_key=("tencent-secret-key", v.tencent_key()),
        db_password=("terraform-variable", v.password()),
        storage_key=("azure-storage-account-key", v.azure_storage_key()),
        plaintext=("high-entropy-string", v.token(48)),
    )


def _dockerfile(v: Values) -> CorpusFile:
    template = """\
FROM python:3.12-slim
ENV DB_PASSWORD={db_password}
ENV API_KEY {api_key}
ARG NPM_TOKEN={npm}
RUN echo "//registry.npmjs.org/:_authToken={npm2}" > ~/.npmrc
ENV HF_TOKEN={hf}
ENV SECRET_KEY_BASE {secret_key_base}
COPY . /app
"""
    return _file(
        "Dockerfile",
        "dockerfile",
        template,
        db_password=("dockerfile-env", v.password()),
        api_key=("dockerfile-env", v.token(40)),
        npm=("npm-token", v.npm()),
        npm2=("npm-token", v.npm()),
        hf=("huggingface-token", v.huggingface()),
        secret_key_base=("dockerfile-env", v.hex(64)),
    )


def _github_actions(v: Values) -> CorpusFile:
    template = """\
name: deploy
on: push
env:
  REGISTRY_PASSWORD: {registry_password}
  DASHSCOPE_API_KEY: {dashscope}
  SONAR_TOKEN: {sonar}
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: docker/login-action@v3
        with:
          username: ci
          password: {login_password}
      - run: curl -H "Authorization: Bearer {bearer}" https://api.internal/deploy
      - run: twine upload -u __token__ -p {pypi} dist/*
      - run: npx vercel deploy --token {vercel}
"""
    return _file(
        ".github/workflows/deploy.yml",
        "yaml",
        template,
        registry_password=("ci-variable", v.password()),
        dashscope=("dashscope-key", v.dashscope()),
        sonar=("ci-variable", v.hex(40)),
        login_password=("ci-variable", v.password()),
        bearer=("bearer-header", v.token(40)),
        pypi=("pypi-token", v.pypi()),
        vercel=("command-line-password", v.token(24)),
    )


def _gitlab_ci(v: Values) -> CorpusFile:
    template = """\
variables:
  DB_PASSWORD: "{db_password}"
  AWS_SECRET_ACCESS_KEY: {aws_secret}
deploy:
  stage: deploy
  script:
    - docker login -u gitlab-ci-token -p {docker_password} registry.gitlab.internal
    - 'curl --header "PRIVATE-TOKEN: {gitlab}" https://gitlab.internal/api/v4/projects'
    - curl -u admin:{curl_password} https://nexus.internal/upload
    - export ANTHROPIC_API_KEY={anthropic}
"""
    return _file(
        ".gitlab-ci.yml",
        "yaml",
        template,
        db_password=("ci-variable", v.password()),
        aws_secret=("aws-secret-access-key", v.aws_secret()),
        docker_password=("command-line-password", v.password()),
        gitlab=("gitlab-token", v.gitlab()),
        curl_password=("command-line-password", v.password()),
        anthropic=("anthropic-key", v.anthropic()),
    )


def _dotenv(v: Values) -> CorpusFile:
    template = """\
OPENAI_API_KEY={openai}
DATABASE_URL=postgresql://app:{db_password}@db:5432/app
SESSION_SECRET={session_secret}
MAILGUN_API_KEY={mailgun}
ALIBABA_CLOUD_ACCESS_KEY_ID={alibaba_id}
ALIBABA_CLOUD_ACCESS_KEY_SECRET={alibaba_secret}
TENCENTCLOUD_SECRET_ID={tencent_id}
TENCENTCLOUD_SECRET_KEY={tencent_key}
BAIDU_API_KEY={baidu_api_key}
BAIDU_SECRET_KEY={baidu_secret}
VOLC_ACCESSKEY={volc_ak}
VOLC_SECRETKEY={volc_sk}
HUGGING_FACE_HUB_TOKEN={hf}
DINGTALK_WEBHOOK=https://oapi.dingtalk.com/robot/send?access_token={dingtalk}
SLACK_WEBHOOK_URL=https://hooks.slack.com/services/{slack}
WECHAT_APPSECRET={wechat}
TELEGRAM_BOT_TOKEN={telegram}
TWILIO_API_KEY={twilio_key}
GITLAB_TOKEN={gitlab}
"""
    return _file(
        "deploy/production.env.example",
        "dotenv",
        template,
        openai=("openai-key", v.openai()),
        db_password=("url-credentials", v.password()),
        session_secret=("env-line", v.token(64)),
        mailgun=("mailgun-key", v.mailgun()),
        alibaba_id=("alibaba-access-key-id", v.alibaba_id()),
        alibaba_secret=("alibaba-access-key-secret", v.alibaba_secret()),
        tencent_id=("tencent-secret-id", v.tencent_id()),
        tencent_key=("tencent-secret-key", v.tencent_key()),
        baidu_api_key=("baidu-api-key", v.baidu_api_key()),
        baidu_secret=("baidu-secret-key", v.alnum(32)),
        volc_ak=("volcengine-access-key-id", v.volc_ak()),
        volc_sk=("volcengine-secret-key", v.volc_sk()),
        hf=("huggingface-token", v.huggingface()),
        dingtalk=("webhook-token", v.hex(64)),
        slack=("slack-webhook", v.slack_webhook_path()),
        wechat=("wechat-app-secret", v.hex(32)),
        telegram=("telegram-bot-token", v.telegram()),
        twilio_key=("twilio-api-key", v.twilio_api_key()),
        gitlab=("gitlab-token", v.gitlab()),
    )


def _npmrc(v: Values) -> CorpusFile:
    template = """\
registry=https://registry.npmjs.org/
//registry.npmjs.org/:_authToken={npm}
//npm.internal/:_auth={auth}
always-auth=true
"""
    return _file(
        ".npmrc",
        "ini",
        template,
        npm=("npm-token", v.npm()),
        auth=("npm-auth", v.b64_of("ci:" + v.password())),
    )


def _sql(v: Values) -> CorpusFile:
    template = """\
-- 初始化数据库
CREATE USER app WITH PASSWORD '{app_password}';
CREATE USER 'report'@'%' IDENTIFIED BY '{report_password}';
ALTER ROLE admin WITH ENCRYPTED PASSWORD '{admin_password}';
-- 管理员密码：{comment_zh}
GRANT SELECT ON ALL TABLES IN SCHEMA public TO report;
"""
    return _file(
        "db/init.sql",
        "sql",
        template,
        app_password=("sql-password", v.password()),
        report_password=("sql-password", v.password()),
        admin_password=("sql-password", v.password()),
        comment_zh=("comment-secret-chinese", v.password()),
    )


def _pem(v: Values) -> CorpusFile:
    template = (
        "# TLS material for the test cluster.\n"
        'SERVER_KEY = """{server_key}\n"""\n'
        'SSH_KEY = """{ssh_key}\n"""\n'
        'JWT_SIGNING = "{jwt}"\n'
    )
    return _file(
        "deploy/tls.py",
        "python",
        template,
        server_key=("private-key", v.private_key("RSA ")),
        ssh_key=("private-key", v.private_key("OPENSSH ")),
        jwt=("jwt", v.jwt()),
    )


_FILES = (
    _python,
    _typescript,
    _go,
    _java,
    _shell,
    _yaml,
    _kubernetes,
    _ini,
    _properties,
    _xml,
    _azure_json,
    _service_account,
    _terraform,
    _dockerfile,
    _github_actions,
    _gitlab_ci,
    _dotenv,
    _npmrc,
    _sql,
    _pem,
)
