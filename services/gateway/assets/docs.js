// The browsable API page: the bundled viewer reads the edge's own /openapi.json. "Authorize"
// takes a bearer token (sandbox06 token --client demo-hospital), or runs a flow of the single
// sign-on with a demo client that works for that flow, prefilled:
// - client credentials: the confidential demo-hospital, with its documented secret;
// - authorization code: the public demo-portal (PKCE, no secret), which accepts any loopback
//   redirect URI, this page's oauth2-redirect.html included.
// The tests read PREFILL (one JSON line) and run each flow with it.
const PREFILL = {"authorizationCode": {"clientId": "demo-portal", "clientSecret": ""}, "clientCredentials": {"clientId": "demo-hospital", "clientSecret": "demo-hospital-secret"}};

// The viewer prefills one client for every flow: this plugin gives each flow its own.
function perFlowClients(system) {
  return {
    wrapComponents: {
      oauth2: function (Original, system) {
        return function (props) {
          const flow = props.schema && props.schema.get("flow");
          // OpenAPI names the flow authorizationCode; OpenID Connect's discovery,
          // authorization_code (Swagger 2.0: accessCode).
          const code = ["authorizationCode", "authorization_code", "accessCode"];
          const client = code.indexOf(flow) >= 0
            ? PREFILL.authorizationCode
            : PREFILL.clientCredentials;
          const authSelectors = Object.assign({}, props.authSelectors, {
            getConfigs: function () {
              return Object.assign({}, props.authSelectors.getConfigs(), client);
            },
          });
          return system.React.createElement(
            Original,
            Object.assign({}, props, { authSelectors: authSelectors }),
          );
        };
      },
    },
  };
}

window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    displayRequestDuration: true,
    tryItOutEnabled: true,
    oauth2RedirectUrl: window.location.origin + "/docs/oauth2-redirect.html",
    plugins: [perFlowClients],
  });
  window.ui.initOAuth({
    clientId: PREFILL.clientCredentials.clientId,
    clientSecret: PREFILL.clientCredentials.clientSecret,
    usePkceWithAuthorizationCodeGrant: true,
  });
});
