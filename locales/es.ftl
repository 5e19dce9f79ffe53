# Texts the service sends one neighbor from the neighborhood's number, in Spanish.
# Written to stay in GSM-7 where it still reads naturally: GSM-7 has é, ñ, ü, ¿ and ¡ but not
# á, í, ó or ú, one of which turns a whole SMS into UCS-2 (70 characters a segment instead of
# 160): "capitanes", not "capitán"; "este grupo", not "este número". No text costs more
# segments than its English one (a test checks); docs/system-texts.md shows each text's
# encoding and segments.

## Joining by text

join-code = { $code } es tu clave para unirte a { $neighborhood }. Vence en 10 minutos.
join-filed = ¡Gracias, { $name }! Tu solicitud para unirte a { $neighborhood } ya la tienen los capitanes; te escribiremos cuando estés dentro.
join-name-too-long = Ese nombre tiene { $length } caracteres y se permiten hasta { $max }. Responde UNIRME con un nombre corto, por ejemplo: UNIRME Ana R.
join-name-invalid = Responde UNIRME y tu nombre (hasta { $max } caracteres), por ejemplo: UNIRME Ana R.
join-name-missing = Responde UNIRME y tu nombre, por ejemplo: UNIRME Ana R.
join-invite-only = { $neighborhood } acepta nuevos miembros solo si los invitan: pide a los capitanes que te inviten.
number-intro = Este es el grupo de texto del vecindario { $neighborhood }. Para unirte, visita { $link } o responde UNIRME y tu nombre.
number-intro-invite-only = Este es el grupo de texto del vecindario { $neighborhood }, solo para invitados: pide a los capitanes que te inviten.
blocked = Lo sentimos, { $neighborhood } no puede aceptar tu solicitud para unirte.
denied = Gracias por pedir unirte a { $neighborhood }. Los capitanes no pudieron agregarte esta vez.
paused = Los capitanes te pausaron en el grupo de { $neighborhood }, por eso tus textos no llegan al grupo. Ellos pueden reactivarte.
rejoined = ¡Hola de nuevo! Vuelves a ser parte del grupo de { $neighborhood }.
rejoin-filed = ¡Hola de nuevo! Tu solicitud para volver a { $neighborhood } ya la tienen los capitanes.

## In the group

welcome = ¡Te damos la bienvenida a { $neighborhood }! Todo lo que escribas a este grupo llega a tus vecinos, firmado con tu nombre. Responde SALIR para salir del grupo, STOP para dejar de recibir textos, AYUDA para ayuda.
help = { $neighborhood }: todo lo que escribas a este grupo llega a tus vecinos, firmado con tu nombre. Responde SALIR para salir, STOP para dejar de recibir textos.
help-whatsapp = { $neighborhood }: todo lo que escribas a este WhatsApp llega a tus vecinos del grupo, firmado con tu nombre. Responde SALIR para salir del grupo, STOP para dejar de recibir mensajes.
left = Saliste de { $neighborhood }. Para volver, responde UNIRME y tu nombre.
owner-cannot-leave = Eres el dueño de este vecindario: entrégalo a otro miembro antes de salir (en el panel de los capitanes).
stopped-whatsapp = Ya no te enviaremos mensajes desde este contacto. Responde START para volver a recibirlos.
language-set = Listo: { $neighborhood } te escribe en español desde ahora.
