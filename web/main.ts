// Placeholder for the Weft web app (the real app comes later).
const app = document.getElementById('app')
if (app !== null) app.textContent = 'Weft'
