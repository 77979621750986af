// Where gatepass is and which client this app is. Register the app once:
//   gatepass client add "Photo Album" --grant authorization_code --public \
//     --redirect-uri http://127.0.0.1:5173/ --web-origin http://127.0.0.1:5173 \
//     --post-logout-redirect-uri http://127.0.0.1:5173/ --json
// and put the client_id that printed here.
window.GATEPASS = {
  issuer: 'http://127.0.0.1:8080',
  clientId: 'REPLACE-WITH-CLIENT-ID',
  scope: 'openid profile email'
}
