// The browsable API page: the bundled viewer reads the edge's own /openapi.json. "Authorize"
// takes a bearer token (sandbox06 token --client demo-hospital) or runs the single sign-on's
// client-credentials flow for a demo client, whose secret is documented.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    displayRequestDuration: true,
    tryItOutEnabled: true,
    oauth2RedirectUrl: window.location.origin + "/docs/oauth2-redirect.html",
  });
  window.ui.initOAuth({
    clientId: "demo-hospital",
    clientSecret: "demo-hospital-secret",
    usePkceWithAuthorizationCodeGrant: true,
  });
});
