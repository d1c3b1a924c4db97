# bash completion for pincer                                  -*- shell-script -*-
#
# Commands and subcommands come from `pincer help --names`, options from the
# command's own -h output, and config keys from `pincer config schema`, so
# this file never goes stale as commands are added.

_pincer()
{
	local cur=${COMP_WORDS[COMP_CWORD]}
	local bin=${PINCER_BIN:-pincer}
	local words=() w i

	# The command path typed so far, skipping options and their values.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		# options that take a value: skip it too
		--state-dir | --profile | --port | --bind | --url | --token | --password | \
			--timeout | --params | --agent) ((i++)) ;;
		-*) ;;
		*) words+=("$w") ;;
		esac
	done

	if [[ $cur == -* ]]; then
		local opts
		opts=$("$bin" "${words[@]}" -h 2>/dev/null | grep -oE -- '--[a-z][a-z-]*' | sort -u)
		[[ ${#words[@]} -eq 0 ]] && opts+=$'\n--version\n--help'
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
		return
	fi

	local names
	names=$("$bin" help --names "${words[@]}" 2>/dev/null)
	if [[ -n $names ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$names" -- "$cur")
		return
	fi

	# No completion for the values of these.
	case ${COMP_WORDS[COMP_CWORD - 1]} in
	--url | --token | --password | --port | --timeout | --params | --state-dir | --profile)
		return
		;;
	--agent)
		# Agent ids from the config (none listed: the default agent, "main").
		local ids
		ids=$("$bin" config get agents.list --json 2>/dev/null | grep -oE '"id": *"[^"]*"' |
			sed -E 's/.*"([^"]*)"$/\1/')
		mapfile -t COMPREPLY < <(compgen -W "${ids:-main}" -- "$cur")
		return
		;;
	esac

	# Skill names for `skills info`.
	if [[ ${words[0]} == skills && ${words[1]} == info && ${#words[@]} -eq 2 ]]; then
		local names
		names=$("$bin" skills list --json 2>/dev/null | grep -oE '^      "name": "[^"]*"' |
			sed -E 's/.*"([^"]*)"$/\1/')
		mapfile -t COMPREPLY < <(compgen -W "$names" -- "$cur")
		return
	fi

	# Config key paths for `config get|set|unset|schema`.
	if [[ ${words[0]} == config && ${#words[@]} -eq 2 ]]; then
		local keys
		keys=$("$bin" config schema --keys 2>/dev/null | grep -v -e '\*' -e '\[\]')
		mapfile -t COMPREPLY < <(compgen -W "$keys" -- "$cur")
	fi
}
complete -F _pincer pincer
