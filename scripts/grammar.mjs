// `npm run grammar`: writes grammar/railroad.html from the built parser (run after the build).
import { writeFileSync } from 'node:fs';
import { railroadHtml } from '../dist/src/parser/railroad.js';

writeFileSync(new URL('../grammar/railroad.html', import.meta.url), railroadHtml());
console.log('wrote grammar/railroad.html');
