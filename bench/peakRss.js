// Preloaded with `node --require` into a CLI run: prints the process's peak resident memory at exit.
process.on('exit', () => {
  require('node:fs').writeSync(2, `\nPEAK_RSS_KB ${process.resourceUsage().maxRSS}\n`);
});
