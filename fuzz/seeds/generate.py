#!/usr/bin/env python3
"""Write the committed seed corpus of the fuzz targets: fuzz/seeds/<target>/<name>.

These are the cases the fixtures (copied into the working corpus by scripts/fuzz) do not show:
other spellings, prefixes, markup the readers must tolerate, and the selector-byte inputs of the
targets that take one. Signed inputs (tokens, session ids) are made with the same keys the targets
use. Rerun after changing a target's input format: `python3 fuzz/seeds/generate.py`.
"""

import base64
import hashlib
import hmac
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

SP = "http://citrix.com/delivery-services/1-0/sessionparams"
LP = "http://citrix.com/delivery-services/1-0/launchparams"
SS = "http://citrix.com/delivery-services/1-0/sessionstate"
EP = "http://citrix.com/dazzleservices/2-0/endpoints"
NFUSE_PROLOG = '<?xml version="1.0" encoding="UTF-8" ?>\r\n<!DOCTYPE NFuseProtocol SYSTEM "NFuse.dtd">\r\n'

with open(os.path.join(ROOT, "tests/fixtures/identity/hs256.secret"), "rb") as f:
    JWT_SECRET = f.read().rstrip()
SESSION_ID_SECRET = b"sessiongate-fuzz-session-id-key!"
FAR_FUTURE = 4102444800  # 2100-01-01
PAST = 1000000000  # 2001


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(header, claims):
    message = b64(json.dumps(header, separators=(",", ":")).encode()) + "." + b64(
        json.dumps(claims, separators=(",", ":")).encode()
    )
    signature = hmac.new(JWT_SECRET, message.encode(), hashlib.sha256).digest()
    return message + "." + b64(signature)


def session_payload(farm, in_name, host_id_type, host_id, session_id):
    out = bytes([1])
    for field in (farm, in_name, host_id_type, host_id, session_id):
        data = field.encode()
        out += bytes([len(data)]) + data
    return out


def session_id(user, *fields):
    payload = session_payload(*fields)
    lowered = user.lower().encode()
    mac = hmac.new(SESSION_ID_SECRET, digestmod=hashlib.sha256)
    mac.update(b"sessiongate session id v1\0")
    mac.update(len(lowered).to_bytes(8, "big"))
    mac.update(lowered)
    mac.update(payload)
    return b64(payload + mac.digest()[:16])


SEEDS = {
    "session_params": {
        "camel-root-prefixed.xml": f'<p:sessionParams xmlns:p="{SP}"><p:clientName> WS01 </p:clientName>'
        "<p:includeActiveSessions>false</p:includeActiveSessions>"
        "<p:appSessionsOnly>true</p:appSessionsOnly></p:sessionParams>",
        "markup-to-tolerate.xml": f'<?xml version="1.0"?>\n<sessionparams xmlns="{SP}"><!-- c -->'
        "<clientName><![CDATA[a&b]]>&#x41;&amp;</clientName>"
        '<extra xmlns="urn:x"><y/></extra><unknown>z</unknown><deviceId/>'
        "<tickets><ticket>T1</ticket><ticket> T2 </ticket><other/></tickets></sessionparams>",
        "powershell-utf16-declared.xml": '<?xml version="1.0" encoding="utf-16"?>\r\n'
        f'<sessionParams xmlns="{SP}"><clientName>PC-01</clientName><deviceId>PC-01</deviceId>'
        "<tickets><ticket>85EB92973D2C3804F93A99AAEC232D</ticket></tickets></sessionParams>",
        "bom-non-ascii.xml": "\ufeff"
        f'<sessionparams xmlns="{SP}"><clientName>Société\u00a0Générale</clientName>'
        "<deviceId>WR_AjT2owY5yJ4ED0J-x</deviceId></sessionparams>",
    },
    "launch_params": {
        "all-fields.xml": f'<launchparams xmlns="{LP}">'
        + "".join(
            f"<{n}>{v}</{n}>"
            for n, v in [
                ("clientName", "WS01"),
                ("clientAddress", "10.1.2.3"),
                ("deviceId", "dev-1"),
                ("audio", "high"),
                ("colourDepth", "truecolor"),
                ("display", "absolute"),
                ("displayPercent", "80"),
                ("displayAbsolute", "1024x768"),
                ("transparentKeyPassthrough", "local"),
                ("specialFolderRedirection", "true"),
                ("clearTypeRemoting", "true"),
                ("showDesktopViewer", "false"),
                ("launcher", "receiver"),
                ("virtualComPort", "COM1"),
                ("comPortMapping", "COM1=COM3"),
                ("clientPrinter", "true"),
            ]
        )
        + "</launchparams>",
        "nested-display-absolute.xml": f'<launchparams xmlns="{LP}"><clientName> c </clientName>'
        "<displayAbsolute><width>1024</width><height>768</height></displayAbsolute>"
        '<audio></audio><x:audio xmlns:x="urn:other">no</x:audio></launchparams>',
        "empty-root.xml": f'<launchparams xmlns="{LP}"/>',
    },
    "session_state": {
        "prefixed-and-odd.xml": f'<s:sessionState xmlns:s="{SS}" enumeration="partial"><s:sessions>'
        '<s:session id="a&amp;b"><s:launchIca><s:url><![CDATA[http://10.0.0.11/x]]></s:url></s:launchIca></s:session>'
        '<s:session id="e"><s:launchIca><s:url/></s:launchIca><s:serverType>win32</s:serverType></s:session>'
        '<s:session id="n"><s:serverType>x</s:serverType></s:session>'
        '<other xmlns="urn:o"><s:session id="hidden"><s:launchIca><s:url>keep</s:url></s:launchIca></s:session></other>'
        "</s:sessions></s:sessionState>",
        "farm-style-ids.xml": f'<sessionState xmlns="{SS}" enumeration="full"><sessions>'
        '<session id="AQVGYXJtMQdOb3RlcGFk-_"><serverType>win32</serverType>'
        "<launchIca><url>http://sf.corp.local/Citrix/Store/sessions/v1/x/launch/ica</url></launchIca>"
        "<initialapp>Notepad</initialapp><initialappresourceaggregated> true </initialappresourceaggregated>"
        "<initialappresourceid>XA.Notepad</initialappresourceid><publishername>Farm1</publishername>"
        "</session></sessions></sessionState>",
        "empty.xml": f'<sessionState xmlns="{SS}"/>',
    },
    "endpoints": {
        "url-kinds.xml": f'<endpoints xmlns="{EP}">'
        '<endpoint id="A"><url>/Citrix/Store/resources/v2</url><capabilities/></endpoint>'
        '<endpoint id="B"><url>HTTP://SF.CORP.LOCAL:80/Citrix/Store/x?y=1&amp;z=2</url></endpoint>'
        '<endpoint id="C"><url>http://[fd00::11]:8080/Citrix/StoreAuth/auth/v1/token</url></endpoint>'
        '<endpoint id="D"><url>https://other.example.com/Citrix/Store</url>'
        "<capabilities><capability>x</capability><capability>y</capability></capabilities></endpoint>"
        '<endpoint id="E"><url> http://10.0.0.11 </url></endpoint></endpoints>',
        "prefixed.xml": f'<e:endpoints xmlns:e="{EP}"><e:endpoint id="ListSessions">'
        "<e:url><![CDATA[http://10.0.0.11/Citrix/Store/sessions/v1/available]]></e:url>"
        "<e:capabilities><e:capability>listSessions</e:capability></e:capabilities></e:endpoint></e:endpoints>",
    },
    "citrix_auth": {
        "challenge-reference.txt": 'CitrixAuth realm="6b78ab94-a709-4e3a-8b9b-a49ca317c70c", '
        'reqtokentemplate="", reason="notoken", '
        'locations="https://www.example.com/Citrix/Authentication/auth/v1/token", '
        'serviceroot-hint="https://www.example.com/Citrix/Store2/resources/v2"',
        "challenge-upstream.txt": 'CitrixAuth realm="Store", reqtokentemplate="", reason="expired", '
        'locations="http://10.0.0.11/Citrix/StoreAuth/auth/v1/token|/Citrix/Store/auth|https://idp.example/t", '
        'serviceroot-hint="http://SF.corp.local:80/Citrix/Store/resources/v2"',
        "challenge-tokens-and-escapes.txt": 'CitrixAuth  realm=Store,reason = "a \\"quoted\\" \\\\ value",,'
        "\tLocations=http://[fd00::11]:8080/x",
        "authorization.txt": "CitrixAuth H4sIAAAAAAAEAK1WW2+bMBT+K1Xfc0lSaVtqoukeYlUwJIJbNXm0B=",
        "authorization-tabs.txt": "\tCitrixAuth\t\tT0k3n\t",
    },
    "media": {
        "session-state.txt": b"\x02application/vnd.citrix.sessionstate+xml",
        "wildcards-and-q.txt": b"\x02text/html, application/*;q=0.1\n*/*;q=0",
        "q-zero-exact.txt": b"\x03*/*, application/vnd.citrix.sessionresults+xml;q=0.000",
        "content-type-charset.txt": b"\x00Application/Vnd.Citrix.SessionParams+XML ; charset=UTF-8",
        "receiver-accept.txt": b"\x05application/vnd.citrix.endpoints+xml, application/xml;q=0.9\ntext/*;Q=1.000",
    },
    "nfuse_response": {
        "latin1-declared.xml": b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<NFuseProtocol version="5.0">'
        b"<ResponseReconnectSessionData><AppDataSet><AppData><InName>Caf\xe9 Notepad</InName>"
        b"<HostId type='ima-host-id'>1</HostId><SessionId> 7 </SessionId><ServerType>win32</ServerType>"
        b"</AppData><AppData><InName>NoSessionId</InName><HostId>2</HostId></AppData></AppDataSet>"
        b"</ResponseReconnectSessionData></NFuseProtocol>",
        "error-mpserror.xml": (NFUSE_PROLOG + '<NFuseProtocol version="5.0"><ResponseTicket>'
        "<ErrorId>Ticketing-Disabled</ErrorId><MPSError type=\"IMA\">0x80000001</MPSError>"
        "</ResponseTicket></NFuseProtocol>").encode(),
        "address-minimal.xml": b"<NFuseProtocol version='1.1'><ResponseAddress><ServerAddress addresstype='dns-port'>"
        b" xa1.example.com:1494 </ServerAddress><TicketTag/><DisconnectedSession/></ResponseAddress>"
        b"<ResponseTicket><Ticket>T</Ticket></ResponseTicket></NFuseProtocol>",
        "farm-data-empty-name.xml": (NFUSE_PROLOG + '<NFuseProtocol version="4.7"><ResponseServerFarmData>'
        "<ServerFarmData><ServerFarmName></ServerFarmName></ServerFarmData>"
        "<ServerFarmData><ServerFarmName>FARM2</ServerFarmName></ServerFarmData>"
        "</ResponseServerFarmData><ResponseLogoffUserSessions/></NFuseProtocol>").encode(),
    },
    "jwt_identity": {
        "0-valid-sub-sids.bin": b"\x00"
        + jwt(
            {"alg": "HS256", "typ": "JWT"},
            {"sub": "CORP\\alice", "exp": FAR_FUTURE, "sids": ["S-1-5-21-1-2-3-1104", "S-1-5-32-545"]},
        ).encode(),
        "0-expired.bin": b"\x00" + jwt({"alg": "HS256"}, {"sub": "alice", "exp": PAST}).encode(),
        "0-alg-none.bin": b"\x00"
        + (b64(b'{"alg":"none"}') + "." + b64(b'{"sub":"CORP\\\\alice","exp":4102444800}') + ".").encode(),
        "3-valid-upn-aud-iss.bin": b"\x03"
        + jwt(
            {"alg": "HS256", "kid": "k1"},
            {"upn": "alice@corp.example", "exp": FAR_FUTURE, "nbf": PAST, "aud": ["x", "sessiongate"],
             "iss": "https://idp.example"},
        ).encode(),
        "1-signed-parts.bin": b'\x01{"alg":"HS256"}\x00{"sub":"bob@corp.example","exp":4102444800.4,'
        b'"nbf":"soon","sids":null}',
        "4-signed-claims-only.bin": b'\x04{"upn":"CORP\\\\bob","exp":4102444800,"aud":"sessiongate",'
        b'"iss":["https://idp.example"]}',
        "7-signed-tampered.bin": b'\x07{"alg":"HS256"}\x00{"sub":"x","exp":4102444800}',
        "2-structured.bin": b"\x02\x02\x02CORP\\alice\x00S-1-5-21-1\x00S-1-5-32-545",
        "5-structured-strict.bin": b"\x05\x56\x00alice@corp.example",
        "8-structured-tampered.bin": b"\x08\x02\x00alice",
    },
    "session_id": {
        "0-sealed.bin": b"\x00"
        + session_id("CORP\\alice", "XA65", "Notepad", "ima-host-id", "23363", "2").encode(),
        "1-payload.bin": b"\x01" + session_payload("Farm1", "Société Notepad", "ima-host-id", "23363", "2"),
        "1-payload-max-fields.bin": b"\x01" + session_payload(*(["y" * 96] * 5)),
        "2-fields.bin": "\x02CORP\\ALICE\0XA65\0Notepad\0ima-host-id\x0023363\x002".encode(),
        "2-fields-unicode-user.bin": "\x02CORP\\\u212aelvin\0F\0Straße\0t\0h\0s".encode(),
    },
}


def main():
    for target, seeds in SEEDS.items():
        folder = os.path.join(HERE, target)
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        for name, content in seeds.items():
            data = content.encode() if isinstance(content, str) else content
            with open(os.path.join(folder, name), "wb") as f:
                f.write(data)
        print(f"{target}: {len(seeds)} seeds")


if __name__ == "__main__":
    main()
