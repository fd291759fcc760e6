// Self-written source text for the random dataset when no --dataset-path is given (the random prompts are this
// text re-tokenized to the target length, so only its token mix matters, not its meaning).
#include "bench/dataset.h"

namespace fathom::bench {

std::vector<std::string> builtin_source_texts() {
  return {
      "The lighthouse keeper wrote the weather into a ledger every evening: wind from the north-west, a sea that "
      "rose after midnight, three fishing boats home before the fog. Nobody read the ledger, but he kept it anyway, "
      "because a record that stops is worse than no record at all.",
      "To make bread without a recipe, start with flour, water, salt and a little yeast. Mix until nothing dry "
      "remains, wait an hour, fold the dough over itself a few times, and wait again. Bake it hot until the crust "
      "sounds hollow when you knock on the bottom of the loaf.",
      "A queue is fair when the first to arrive is the first to be served, but a scheduler that only looks at "
      "arrival order can leave a short job waiting behind a long one. Counting work in tokens rather than in "
      "requests lets both move forward in the same step.",
      "The river froze late that year. Children tested the ice with long sticks, then with one foot, then with "
      "both; by January the whole village walked across it to the market on the other bank, and the ferryman "
      "spent the winter mending his nets by the stove.",
      "Explain, in plain words, why a cache helps: reading something you already have nearby is faster than "
      "fetching it from far away, so keeping recent answers close pays off whenever the same question comes back "
      "soon. The cost is memory, and the art is deciding what to forget.",
      "def mean(values):\n    total = 0.0\n    for v in values:\n        total += v\n    return total / len(values)"
      "\n\n# The function above fails on an empty list; a careful version checks the length first and says what "
      "it expected instead of dividing by zero.",
      "Twelve musicians tuned their instruments while the hall filled. The oboe gave the note, the strings "
      "followed, and for a moment the room held a single chord that belonged to no piece at all, only to the "
      "evening and the people who had come to listen.",
      "Measure twice, cut once. A benchmark is a measurement like any other: state what was measured, how, on "
      "which machine and with which command, so that someone else can repeat it and find the same number, or a "
      "different one and a reason for the difference.",
  };
}

}  // namespace fathom::bench
