/** Ordinary Bash an agent runs all day: none of it involves a service. */
// prettier-ignore
export const EVERYDAY = [
  "echo $((1+2))", "arr=(a b c); echo ${arr[@]}", "[[ $a =~ ^x[0-9]+$ ]] && echo y",
  "case $x in a) echo a;& b) echo b;;& *) ;; esac", "echo ${x//a/b} ${x:-def} ${#x} ${x^^}",
  "cat <<-EOF\n\tindented\n\tEOF", "echo {1..3} {a,b}", "for ((i=0;i<3;i++)); do echo $i; done",
  'git log --format="%H %s" -n 5', 'find . -name "*.ts" -print0 | xargs -0 grep -l foo',
  "npm test -- --reporter=dot 2>&1 | tail -n 50", "python3 - <<PY\nprint(1)\nPY",
  `jq -r '.[] | select(.a == "b") | .c' f.json`, `echo "a"'b'"c"`, "x=$(cat <<EOF\nhi\nEOF\n)",
  `read -r -d "" v <<< "$x"`, "exec 3>&1; echo hi >&3", `echo $"loc"`, "time (sleep 1)", "! false",
  "coproc { cat; }", "echo ${!prefix@}", "printf -v x %s y", `sed -i "s/a/b/g" f`, "awk '{print $1}' f",
  `ls | while IFS= read -r l; do echo "$l"; done`, "echo hi > >(cat)", "diff <(ls a) <(ls b)",
  "declare -A m=([a]=1 [b]=2)", "echo $(( 16#ff ))", "if [ -f x ]; then :; elif [ -d x ]; then :; fi",
  "trap - EXIT", `[ "$(uname)" = Linux ] || exit 1`, `git commit -m "$(cat <<'EOF'\nmsg\n\nCo-Authored-By: x\nEOF\n)"`,
  "cd /tmp && ls -la | head -20", "echo 'it'\\''s'", "echo $'tab\\there'", "cmd &> /dev/null &", "a=1 b=2 c",
  "[[ -z \"${VAR:-}\" ]] && export VAR=x", "grep -E 'a|b' f || true", "echo \"${arr[*]}\"", "mapfile -t lines < f",
  "until [ -f done ]; do sleep 1; done", "shopt -s nullglob; for f in *.md; do echo $f; done", "echo $((x > 1 ? 1 : 0))",
];
