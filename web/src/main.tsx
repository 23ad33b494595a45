import { render } from 'preact';
import './ui';
import './app.css';
import './pages/pages.css';
import { App } from './app';

render(<App />, document.getElementById('app')!);
