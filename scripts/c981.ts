/** The admin CLI's entry (`npm run c981`, `npm run db:migrate`, `npm run db:seed`): the commands live in scripts/cli/. */
import "./cli/index";
