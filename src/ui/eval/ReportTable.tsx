// The evaluation in the paper's layout: F1 / BLEU-1 / Judge per question type and overall, our row first
// and Memory-R1's published rows below it.
import type { EvalReport } from '../../eval/report';
import type { TableColumn } from '../../eval/memory-r1-table1';

const TITLES: Record<TableColumn, string> = {
  'single-hop': 'Single Hop',
  'multi-hop': 'Multi-Hop',
  'open-domain': 'Open Domain',
  temporal: 'Temporal',
  overall: 'Overall',
};

const cell = (v: number | null) => (v === null ? '–' : v.toFixed(2));

export function ReportTable({ report }: { report: EvalReport }) {
  return (
    <>
      {/* The caption's words are shown above the table: a caption scrolls away with a wide table on a phone. */}
      <p className="small" aria-hidden="true">
        LoCoMo, {report.split} split: <strong>{report.questions}</strong> questions in this run, beside Memory-R1&rsquo;s published Table 1 (test split, 1307 questions). F1, BLEU-1 (B1) and
        LLM-as-a-Judge (J) in percent.
      </p>
    <div className="table-scroll">
      <table className="qa-table report-table">
        <caption className="visually-hidden">
          LoCoMo, {report.split} split: {report.questions} questions in this run, beside Memory-R1&rsquo;s published Table 1 (test split, 1307 questions). F1, BLEU-1 (B1) and LLM-as-a-Judge (J)
          in percent.
        </caption>
        <thead>
          <tr>
            <th scope="col" rowSpan={2} className="backbone">
              Backbone
            </th>
            <th scope="col" rowSpan={2} className="method">
              Method
            </th>
            {report.columns.map((c) => (
              <th key={c} scope="colgroup" colSpan={3} className="group">
                {TITLES[c]}
              </th>
            ))}
          </tr>
          <tr>
            {report.columns.map((c) => ['F1', 'B1', 'J'].map((m) => <th key={`${c}-${m}`} scope="col" className="num" aria-label={`${TITLES[c]} ${m}`}>{m}</th>))}
          </tr>
        </thead>
        <tbody>
          {report.rows.map((row, i) => {
            const ours = row.source === 'this run';
            return (
              <tr key={i} className={ours ? 'ours' : undefined}>
                <td className="backbone">{row.backbone ?? '—'}</td>
                <th scope="row" className="method">
                  {ours ? <strong>{row.method}</strong> : row.method}
                  {row.backbone && <span className="inline-backbone">{row.backbone}</span>}
                </th>
                {report.columns.flatMap((c) =>
                  (['f1', 'b1', 'j'] as const).map((m) => (
                    <td key={`${c}-${m}`} className={`num${c === 'overall' ? ' overall' : ''}`}>
                      {cell(row.values[c][m])}
                    </td>
                  )),
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
    </>
  );
}
