"""What every conversation needs in each language: greetings, sign-offs, thanks, nudges, and
the customer-facing texts of the most common issues in de, fr, es, pt and ja.

Placeholders as in ``conversations``. A ticket in a language without a text for its issue
is written in English.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LocalIssue:
    subjects: tuple[str, ...]
    opening: str
    short: str
    ask: str
    answer: str
    fix: str


@dataclass(frozen=True)
class Phrases:
    greeting: str
    signoff: str
    chat_greeting: str
    ack: str
    escalated: str
    check_in: str
    thanks: tuple[str, ...]
    nudge: tuple[str, ...]
    reopen: tuple[str, ...]
    follow_up: str
    second_fix: str  # after the customer says the problem is back
    customer_signature: str = "{first}"
    issues: dict[str, LocalIssue] = field(default_factory=dict)


PHRASES: dict[str, Phrases] = {
    "en": Phrases(
        greeting="Hi {first},",
        signoff="Best regards,\n{agent}\nNorthwind Cloud Support",
        chat_greeting="Hi {first}, thanks for waiting! Let me look into that for you.",
        ack="Thanks for reaching out. I'm looking into this now and will get back to you shortly.",
        escalated=(
            "I've passed this to our Tier 2 team, who can look at the logs for your workspace. We'll "
            "update you here as soon as we know more."
        ),
        check_in="Just checking in: did the steps above solve it for you?",
        thanks=(
            "That worked, thank you!",
            "All good now. Thanks for the quick help.",
            "Confirmed, it's fixed. Much appreciated.",
            "Perfect, thanks a lot!",
        ),
        nudge=(
            "Any news on this? It's blocking our team.",
            "Hi, just following up on this. Is there an update?",
            "Still waiting on this one. Could someone have a look?",
        ),
        reopen=(
            "Sorry to come back to this, but the problem is back since this morning.",
            "Unfortunately this is happening again.",
            "It worked for a day and now it's broken again.",
        ),
        follow_up="Hi again, this has started happening again. Same problem as in my last ticket.",
        second_fix=(
            "Thanks for telling us, and sorry it came back. I've looked at it again and found a setting "
            "that had been reverted on your workspace; it's corrected now and I've added a check so it "
            "can't silently change again. Let me know if you see it once more."
        ),
    ),
    "de": Phrases(
        greeting="Hallo {first},",
        signoff="Viele Grüße\n{agent}\nNorthwind Cloud Support",
        chat_greeting="Hallo {first}, danke fürs Warten! Ich schaue mir das gleich an.",
        ack="Danke für Ihre Nachricht. Ich prüfe das gerade und melde mich in Kürze.",
        escalated=(
            "Ich habe Ihr Anliegen an unser Tier-2-Team weitergegeben, das die Logs Ihres Workspaces "
            "prüfen kann. Wir melden uns, sobald wir mehr wissen."
        ),
        check_in="Kurze Nachfrage: Haben die Schritte oben das Problem gelöst?",
        thanks=("Das hat funktioniert, vielen Dank!", "Alles klar, danke für die schnelle Hilfe."),
        nudge=("Gibt es hierzu schon Neuigkeiten?", "Ich wollte kurz nachhaken – gibt es ein Update?"),
        reopen=("Leider tritt das Problem seit heute Morgen wieder auf.",),
        follow_up="Hallo, das Problem aus meinem letzten Ticket ist leider wieder da.",
        second_fix=(
            "Danke für die Rückmeldung, und entschuldigen Sie bitte. Eine Einstellung in Ihrem Workspace "
            "war zurückgesetzt worden; das ist jetzt korrigiert. Melden Sie sich gern, falls es wieder "
            "auftritt."
        ),
        issues={
            "double_charge": LocalIssue(
                subjects=("Doppelte Abbuchung für Rechnung {invoice}", "Rechnung {invoice} zweimal belastet"),
                opening=(
                    "Guten Tag,\n\nunsere Buchhaltung hat zwei Abbuchungen über {amount} für die Rechnung "
                    "{invoice} festgestellt (Karte endet auf {card_last4}). Bitte erstatten Sie die "
                    "doppelte Zahlung.\n\nMit freundlichen Grüßen\n{first} {last}\n{org}"
                ),
                short="Hallo, Rechnung {invoice} wurde doppelt abgebucht ({amount}). Bitte einmal erstatten.",
                ask=(
                    "Das tut mir leid. Könnten Sie mir die Daten der beiden Abbuchungen laut Kontoauszug "
                    "nennen? Dann kümmere ich mich darum."
                ),
                answer="Beide gestern, Karte endet auf {card_last4}, etwa zehn Minuten nacheinander.",
                fix=(
                    "Ich habe die doppelte Zahlung über {amount} erstattet. Je nach Bank ist sie in 5–10 "
                    "Werktagen auf Ihrem Konto. An Ihrer Rechnung {invoice} ändert sich nichts."
                ),
            ),
            "password_reset": LocalIssue(
                subjects=("E-Mail zum Zurücksetzen des Passworts kommt nicht an",),
                opening=(
                    "Hallo,\n\nich habe heute dreimal ein neues Passwort angefordert, aber die E-Mail kommt "
                    "nicht an. Spam-Ordner habe ich geprüft.\n\nDanke\n{first}"
                ),
                short="Passwort-Reset-Mail kommt nicht an, Spam schon geprüft.",
                ask=(
                    "Unsere Logs zeigen, dass Ihr Mailserver die Nachrichten angenommen hat. Könnte Ihre "
                    "IT prüfen, ob Mails von no-reply@northwind.example zurückgehalten werden?"
                ),
                answer="Die IT hat die Mails in der Quarantäne gefunden und freigegeben. Bitte neu senden.",
                fix=(
                    "Ich habe Ihnen einen neuen Link geschickt, er ist 60 Minuten gültig. Danach empfehle "
                    "ich, unter Profil → Sicherheit die Zwei-Faktor-Anmeldung zu aktivieren."
                ),
            ),
            "csv_export": LocalIssue(
                subjects=("CSV-Export ohne Werte in den benutzerdefinierten Feldern",),
                opening=(
                    "Hallo,\n\nbeim CSV-Export der Projektliste sind die Spalten der benutzerdefinierten "
                    "Felder leer. Letzte Woche ging es noch. Wir brauchen den Export für den "
                    "Monatsabschluss.\n\nGrüße\n{first}"
                ),
                short="CSV-Export: benutzerdefinierte Felder sind seit letzter Woche leer.",
                ask="Danke für den Hinweis! Aus welcher Ansicht exportieren Sie, und mit welchem Browser?",
                answer="Ansicht 'Alle Projekte', {browser}.",
                fix=(
                    "Unsere Entwickler haben den Fehler behoben: Felder mit Standardwert wurden beim Export "
                    "übersprungen. Ihr nächster Export enthält wieder alle Werte."
                ),
            ),
            "bulk_invite": LocalIssue(
                subjects=("Mehrere Benutzer auf einmal einladen?",),
                opening=(
                    "Hallo,\n\nwir führen Northwind nächste Woche im ganzen Unternehmen ein ({seats} "
                    "Personen). Kann man alle auf einmal einladen?\n\nDanke!\n{first}, {org}"
                ),
                short="Kann man {seats} Benutzer auf einmal einladen?",
                ask="Gerne! Verwalten Sie Ihre Benutzer in einem Verzeichnis wie Azure AD?",
                answer="Ja, wir nutzen Azure AD.",
                fix=(
                    "Unter Einstellungen → Personen → Einladen → CSV hochladen können Sie alle auf einmal "
                    "einladen. Mit Azure AD können Sie außerdem die Verzeichnissynchronisierung aktivieren."
                ),
            ),
        },
    ),
    "fr": Phrases(
        greeting="Bonjour {first},",
        signoff="Cordialement,\n{agent}\nSupport Northwind Cloud",
        chat_greeting="Bonjour {first}, merci de votre patience ! Je regarde cela tout de suite.",
        ack="Merci pour votre message. J'examine la situation et je reviens vers vous rapidement.",
        escalated=(
            "J'ai transmis votre demande à notre équipe de niveau 2, qui peut consulter les journaux de "
            "votre espace. Nous revenons vers vous dès que possible."
        ),
        check_in="Je me permets de revenir vers vous : les étapes ci-dessus ont-elles résolu le problème ?",
        thanks=("Ça fonctionne, merci beaucoup !", "Parfait, merci pour votre aide rapide."),
        nudge=("Avez-vous des nouvelles à ce sujet ?", "Je relance : y a-t-il du nouveau ?"),
        reopen=("Malheureusement, le problème est revenu ce matin.",),
        follow_up="Bonjour, le problème de mon dernier ticket est de retour.",
        second_fix=(
            "Merci de nous l'avoir signalé, et désolée pour la gêne. Un paramètre de votre espace avait "
            "été réinitialisé ; il est corrigé. N'hésitez pas à revenir vers nous si cela se reproduit."
        ),
        issues={
            "double_charge": LocalIssue(
                subjects=("Double prélèvement pour la facture {invoice}",),
                opening=(
                    "Bonjour,\n\nnotre service comptable a constaté deux prélèvements de {amount} pour la "
                    "facture {invoice}. Pourriez-vous rembourser le doublon ?\n\nCordialement,\n{first} "
                    "{last}\n{org}"
                ),
                short="Bonjour, la facture {invoice} a été prélevée deux fois ({amount}).",
                ask="Désolée pour ce désagrément. Pourriez-vous m'indiquer les dates des deux prélèvements ?",
                answer="Les deux datent d'hier, à dix minutes d'intervalle.",
                fix=(
                    "J'ai remboursé le prélèvement en double de {amount}. Selon votre banque, il apparaîtra "
                    "sous 5 à 10 jours ouvrés. Rien ne change pour la facture {invoice}."
                ),
            ),
            "password_reset": LocalIssue(
                subjects=("Je ne reçois pas l'e-mail de réinitialisation",),
                opening=(
                    "Bonjour,\n\nj'ai demandé trois fois la réinitialisation de mon mot de passe mais je ne "
                    "reçois rien, même dans les spams.\n\nMerci,\n{first}"
                ),
                short="Je ne reçois pas l'e-mail de réinitialisation du mot de passe.",
                ask=(
                    "Nos journaux montrent que votre serveur a accepté les messages. Votre service "
                    "informatique pourrait-il vérifier la quarantaine ?"
                ),
                answer="Ils étaient en quarantaine, c'est débloqué. Pouvez-vous en renvoyer un ?",
                fix="Je vous ai envoyé un nouveau lien, valable 60 minutes.",
            ),
            "bulk_invite": LocalIssue(
                subjects=("Inviter tous nos utilisateurs en une fois ?",),
                opening=(
                    "Bonjour,\n\nnous déployons Northwind pour {seats} personnes la semaine prochaine. "
                    "Peut-on inviter tout le monde en une seule fois ?\n\n{first}, {org}"
                ),
                short="Peut-on inviter {seats} utilisateurs en une fois ?",
                ask="Bien sûr ! Gérez-vous vos utilisateurs dans un annuaire (Azure AD, Google Workspace) ?",
                answer="Oui, Google Workspace.",
                fix=(
                    "Rendez-vous dans Paramètres → Personnes → Inviter → Importer un CSV. Avec Google "
                    "Workspace, vous pouvez aussi activer la synchronisation de l'annuaire."
                ),
            ),
        },
    ),
    "es": Phrases(
        greeting="Hola {first}:",
        signoff="Saludos,\n{agent}\nSoporte de Northwind Cloud",
        chat_greeting="¡Hola {first}, gracias por esperar! Lo reviso ahora mismo.",
        ack="Gracias por escribirnos. Estoy revisando el caso y te respondo en breve.",
        escalated=(
            "He pasado tu caso a nuestro equipo de nivel 2, que puede revisar los registros de tu "
            "espacio de trabajo. Te escribiremos en cuanto sepamos más."
        ),
        check_in="Te escribo para confirmar: ¿los pasos anteriores resolvieron el problema?",
        thanks=("¡Funcionó, muchas gracias!", "Todo bien ahora, gracias por la ayuda."),
        nudge=("¿Hay alguna novedad?", "Hola, ¿hay alguna actualización sobre esto?"),
        reopen=("Lo siento, pero el problema ha vuelto a aparecer.",),
        follow_up="Hola de nuevo, vuelve a pasar lo mismo que en mi último ticket.",
        second_fix=(
            "Gracias por avisarnos y disculpa las molestias. Un ajuste de tu espacio de trabajo se había "
            "restablecido; ya está corregido. Escríbenos si vuelve a ocurrir."
        ),
        issues={
            "double_charge": LocalIssue(
                subjects=("Cobro duplicado de la factura {invoice}",),
                opening=(
                    "Hola,\n\nnuestro equipo de finanzas vio dos cargos de {amount} por la factura "
                    "{invoice}. ¿Pueden reembolsar el duplicado?\n\nGracias,\n{first} {last}\n{org}"
                ),
                short="Hola, nos cobraron dos veces la factura {invoice} ({amount}).",
                ask="Lamento el cobro doble. ¿Me indicas las fechas de ambos cargos en tu extracto?",
                answer="Los dos son de ayer, con diez minutos de diferencia.",
                fix=(
                    "He reembolsado el cargo duplicado de {amount}. Según tu banco, lo verás en 5 a 10 "
                    "días hábiles. La factura {invoice} no cambia."
                ),
            ),
            "password_reset": LocalIssue(
                subjects=("No llega el correo para restablecer la contraseña",),
                opening=(
                    "Hola,\n\nhe pedido tres veces restablecer la contraseña pero el correo no llega, "
                    "tampoco a spam.\n\nGracias,\n{first}"
                ),
                short="No me llega el correo para restablecer la contraseña.",
                ask="¿Podría tu equipo de TI revisar si retienen los correos de no-reply@northwind.example?",
                answer="Estaban en cuarentena, ya los liberaron. ¿Puedes enviar otro?",
                fix="Te envié un enlace nuevo, válido durante 60 minutos.",
            ),
            "bulk_invite": LocalIssue(
                subjects=("¿Cómo invitar a muchos usuarios a la vez?",),
                opening=(
                    "Hola,\n\nla semana que viene implantamos Northwind para {seats} personas. ¿Se puede "
                    "invitar a todos de una vez?\n\n{first}, {org}"
                ),
                short="¿Se puede invitar a {seats} usuarios de una vez?",
                ask="¡Claro! ¿Gestionan los usuarios en un directorio como Azure AD?",
                answer="Sí, usamos Azure AD.",
                fix=(
                    "En Configuración → Personas → Invitar → Subir CSV puedes invitar a todos a la vez. "
                    "Con Azure AD también puedes activar la sincronización del directorio."
                ),
            ),
        },
    ),
    "pt": Phrases(
        greeting="Olá {first},",
        signoff="Atenciosamente,\n{agent}\nSuporte Northwind Cloud",
        chat_greeting="Olá {first}, obrigada por aguardar! Vou verificar agora.",
        ack="Obrigado pelo contato. Estou verificando e retorno em breve.",
        escalated=(
            "Encaminhei o seu caso para a nossa equipe de nível 2, que pode analisar os logs do seu "
            "espaço de trabalho. Voltamos a falar assim que tivermos novidades."
        ),
        check_in="Passando para confirmar: os passos acima resolveram o problema?",
        thanks=("Funcionou, muito obrigado!", "Tudo certo agora, obrigada pela ajuda rápida."),
        nudge=("Alguma novidade sobre isso?", "Olá, há alguma atualização?"),
        reopen=("Infelizmente o problema voltou a acontecer.",),
        follow_up="Olá de novo, o mesmo problema do meu último chamado voltou.",
        second_fix=(
            "Obrigado por avisar e desculpe o transtorno. Uma configuração do seu espaço de trabalho "
            "tinha sido revertida; já está corrigida. Se acontecer de novo, é só responder aqui."
        ),
        issues={
            "double_charge": LocalIssue(
                subjects=("Cobrança em duplicidade da fatura {invoice}",),
                opening=(
                    "Olá,\n\nnosso financeiro identificou duas cobranças de {amount} referentes à fatura "
                    "{invoice}. Podem estornar a duplicada?\n\nObrigado,\n{first} {last}\n{org}"
                ),
                short="Olá, a fatura {invoice} foi cobrada duas vezes ({amount}).",
                ask="Sinto muito pela cobrança dupla. Pode me informar as datas das duas cobranças?",
                answer="As duas são de ontem, com dez minutos de diferença.",
                fix=(
                    "Estornei a cobrança duplicada de {amount}. Dependendo do banco, o valor aparece em "
                    "5 a 10 dias úteis. Nada muda na fatura {invoice}."
                ),
            ),
            "password_reset": LocalIssue(
                subjects=("Não recebo o e-mail de redefinição de senha",),
                opening=(
                    "Olá,\n\npedi três vezes a redefinição de senha, mas o e-mail não chega, nem no spam."
                    "\n\nObrigada,\n{first}"
                ),
                short="O e-mail de redefinição de senha não chega.",
                ask="A equipe de TI pode verificar se e-mails de no-reply@northwind.example estão retidos?",
                answer="Estavam em quarentena, já liberaram. Pode enviar outro?",
                fix="Enviei um novo link, válido por 60 minutos.",
            ),
            "csv_export": LocalIssue(
                subjects=("Exportação CSV sem os campos personalizados",),
                opening=(
                    "Olá,\n\nao exportar a lista de projetos em CSV, as colunas dos campos personalizados "
                    "vêm vazias. Na semana passada funcionava.\n\n{first}"
                ),
                short="Exportação CSV: campos personalizados vazios desde a semana passada.",
                ask="Obrigado pelo aviso! De qual visualização você exporta e com qual navegador?",
                answer="Da visualização 'Todos os projetos', {browser}.",
                fix=(
                    "Nossos engenheiros corrigiram o erro: campos com valor padrão eram ignorados na "
                    "exportação. A próxima exportação virá completa."
                ),
            ),
        },
    ),
    "ja": Phrases(
        greeting="{last}様",
        signoff="よろしくお願いいたします。\n{agent}\nNorthwind Cloud サポート",
        chat_greeting="{last}様、お待たせいたしました。すぐに確認いたします。",
        ack="お問い合わせありがとうございます。確認のうえ、改めてご連絡いたします。",
        escalated="専門チーム（Tier 2）に引き継ぎました。詳細が分かり次第ご連絡いたします。",
        check_in="その後、問題は解決しましたでしょうか。",
        thanks=("解決しました。ありがとうございました。", "迅速なご対応ありがとうございます。"),
        nudge=("その後の状況はいかがでしょうか。",),
        reopen=("申し訳ありませんが、同じ問題が再発しました。",),
        follow_up="お世話になっております。前回と同じ問題がまた発生しています。",
        second_fix=(
            "ご連絡ありがとうございます。ご不便をおかけし申し訳ございません。ワークスペースの設定が元に"
            "戻っていたため、修正いたしました。再発した場合はこのままご返信ください。"
        ),
        customer_signature="{last}",
        issues={
            "double_charge": LocalIssue(
                subjects=("請求書 {invoice} の二重請求について",),
                opening=(
                    "Northwind Cloud サポート御中\n\n請求書 {invoice} について、{amount} が二回引き落とされて"
                    "います。重複分の返金をお願いできますでしょうか。\n\n{org}\n{last} {first}"
                ),
                short="請求書 {invoice} が二重に請求されています（{amount}）。",
                ask="ご迷惑をおかけし申し訳ございません。二回の引き落とし日をお知らせいただけますか。",
                answer="どちらも昨日で、10分ほどの間隔です。",
                fix=(
                    "重複分の {amount} を返金いたしました。カード会社により、反映まで5〜10営業日かかる"
                    "場合がございます。請求書 {invoice} に変更はございません。"
                ),
            ),
            "password_reset": LocalIssue(
                subjects=("パスワード再設定メールが届きません",),
                opening=(
                    "お世話になっております。\n\nパスワードの再設定を3回依頼しましたが、メールが届きません。"
                    "迷惑メールフォルダも確認しました。\n\n{last}"
                ),
                short="パスワード再設定メールが届きません。",
                ask=(
                    "社内のIT部門に、no-reply@northwind.example からのメールが"
                    "保留されていないかご確認いただけますか。"
                ),
                answer="隔離されていたので解除しました。もう一度送っていただけますか。",
                fix="新しいリンクをお送りしました。有効期限は60分です。",
            ),
            "bulk_invite": LocalIssue(
                subjects=("複数のユーザーを一括で招待する方法",),
                opening=(
                    "お世話になっております。\n\n来週、全社（{seats}名）でNorthwindを導入します。一括で招待する"
                    "方法はありますか。\n\n{org}\n{last}"
                ),
                short="{seats}名を一括で招待できますか。",
                ask="はい、可能です。Azure AD などのディレクトリでユーザーを管理されていますか。",
                answer="Google Workspace を使っています。",
                fix=(
                    "設定 → ユーザー → 招待 → CSVをアップロード から一括招待できます。Google Workspace の"
                    "ディレクトリ同期もご利用いただけます。"
                ),
            ),
        },
    ),
}
