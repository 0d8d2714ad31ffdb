import type { QaResult } from './useQuestions';

/** Each answer beside the gold answer with its token F1, and the mean. */
export function QaTable({ results, total }: { results: QaResult[]; total: number }) {
  if (results.length === 0) return null;
  const mean = results.reduce((sum, r) => sum + r.f1, 0) / results.length;
  return (
    <div className="table-scroll">
      <table className="qa-table">
        <caption>
          Mean F1 <strong>{mean.toFixed(2)}</strong> over {results.length} of {total} questions
        </caption>
        <thead>
          <tr>
            <th scope="col">Question</th>
            <th scope="col">Answer</th>
            <th scope="col">Gold answer</th>
            <th scope="col">F1</th>
          </tr>
        </thead>
        <tbody>
          {results.map((r, i) => (
            <tr key={i}>
              <td>{r.question}</td>
              <td>
                {r.answer}
                {r.used.length > 0 && (
                  <details className="used">
                    <summary>Memories used ({r.used.length})</summary>
                    <ul>
                      {r.used.map((m) => (
                        <li key={m.id}>{m.text}</li>
                      ))}
                    </ul>
                  </details>
                )}
              </td>
              <td>{r.gold}</td>
              <td className={`f1 ${r.f1 >= 0.99 ? 'good' : r.f1 > 0 ? 'partial' : 'miss'}`}>{r.f1.toFixed(2)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
