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

## Catching up

catch-up-heading = { $count ->
    [one] Resumen de { $neighborhood }, el mensaje reciente:
   *[other] Resumen de { $neighborhood }, los { $count } mensajes recientes:
}
catch-up-link = Lee lo que se dijo en { $neighborhood }: { $link } (se abre una vez y vence en una semana)
whatsapp-up-to-date = Ya tienes todo lo nuevo de { $neighborhood }: sus mensajes te siguen llegando si escribes al menos una vez cada 24 horas.

## Notes to members and captains

web-already-in = Alguien quiso unirse a { $neighborhood } desde la web con este celular. Ya eres parte del grupo: no cambia nada y no tienes que hacer nada.
web-paused = Alguien quiso unirse a { $neighborhood } desde la web con este celular. Los capitanes te pausaron en el grupo: no cambia nada, y ellos pueden reactivarte.
muted = Los capitanes te silenciaron en este grupo: por ahora tus textos no llegan al grupo.
announce-only = Este grupo es solo para anuncios: tu texto fue solo a los capitanes.
media-too-many = No enviamos tu mensaje: cada mensaje al grupo lleva hasta { $max } fotos. Reparte las fotos en varios mensajes.
media-too-large = No enviamos tu mensaje: sus fotos pesan { $size } MB y cada mensaje al grupo lleva hasta { $max } MB. Manda menos fotos o fotos de menor peso.
media-unsupported = No enviamos tu mensaje: el grupo acepta solo fotos (JPEG, PNG o GIF), no { $type }.
to-the-captains = { $name } (a los capitanes): { $body }
promoted-moderator = { $actor } te hizo moderador de { $neighborhood }. Entra en { $link } con este celular para ver las solicitudes y los miembros.
promoted-captain = { $actor } te puso entre los capitanes de { $neighborhood }. Entra en { $link } con este celular para aprobar vecinos y anunciar.
delivery-paused = Los textos a { $name } siguen fallando (error de Twilio { $code }) y quedan en pausa. Puedes reactivarlos en el panel cuando su celular funcione.
budget-warning = { $neighborhood } lleva gastado el { $percent }% de su presupuesto mensual de { $budget } ({ $cost } en lo que va del mes). Al 100% los anuncios nuevos esperan hasta que los capitanes suban el presupuesto.
budget-reached = { $neighborhood } ya tiene gastado todo su presupuesto mensual de { $budget } ({ $cost } este mes). Los anuncios nuevos esperan hasta que los capitanes suban el presupuesto en el panel; el grupo sigue funcionando.
endpoint-disabled = { $neighborhood }: los eventos a { $host } fallaron durante 24 horas y se apagaron. Vuelve a encenderlos en Ajustes del panel; no se pierde nada.
sheet-hub-failing = { $neighborhood }: Google no nos deja leer tu hoja desde hace una hora. Seguimos intentando; Ajustes del panel muestra lo que dice Google.
sheet-hub-paused = { $neighborhood }: se detuvo la hoja de Google: { $code ->
    [revoked] se quito el acceso. Conectala de nuevo
    [forbidden] ya no se comparte con la cuenta conectada. Compartela otra vez
    [not_found] la hoja ya no existe. Eligela de nuevo
    [range_not_found] su pestana cambio de nombre. Guarda el rango otra vez
   *[other] le falta la columna de nombre o telefono. Corrigela y guarda
} en Ajustes del panel.
join-request = Nueva solicitud #{ $number }: { $name }. Responde #approve { $number } o #deny { $number }
join-request-with-address = Nueva solicitud #{ $number }: { $name }, { $address }. Responde #approve { $number } o #deny { $number }
join-requests = { $count } solicitudes nuevas: { $names }. Responde #pending para verlas, #approve N o #deny N.
join-requests-and-more = { $count } solicitudes nuevas: { $names } y otras { $more }. Responde #pending para verlas, #approve N o #deny N.

## Replies to captains' #commands

cmd-help = Comandos: #pending (solicitudes abiertas), #approve 12, #deny 12, #remove Nombre, #mute Nombre, #unmute Nombre.
cmd-usage-number = Escribe el # de la solicitud, por ejemplo: #approve 12
cmd-usage-name = Escribe el nombre del miembro, por ejemplo: #{ $command } Ana R.
cmd-not-allowed = Solo los capitanes del vecindario pueden usar ese comando.
cmd-no-request = No hay solicitud #{ $number }.
cmd-approved = Aprobada #{ $number }: { $name } entra al grupo en breve.
cmd-approved-already = #{ $number } ya estaba aprobada.
cmd-denied = Rechazada #{ $number } ({ $name }); le llega un texto amable.
cmd-denied-already = #{ $number } ya estaba rechazada.
cmd-removed = { $name } ya no es parte del grupo.
cmd-try-again = Hubo otro cambio al mismo tiempo; intenta de nuevo.
cmd-none-waiting = No hay solicitudes esperando.
cmd-waiting = Esperando: { $list }. Responde #approve N o #deny N.
cmd-waiting-more = Esperando: { $list } (y otras { $more } en el panel). Responde #approve N o #deny N.
cmd-over-cap = #{ $number } vino de una planilla importada, y hoy ya se agregaron { $cap } personas de ese modo: apruébala mañana o pide ayuda a un administrador.
cmd-unconfirmed = #{ $number } sigue sin confirmar su celular.
cmd-already-member = El celular de #{ $number } ya es de un miembro.
cmd-archived = Este vecindario ya fue archivado.
cmd-no-member = No hay un miembro activo llamado "{ $name }". Usa el nombre tal como sale en los textos del grupo.
cmd-cannot-mute = No puedes silenciar a { $name }: solo alguien con un rol mayor que el suyo puede hacerlo.
cmd-muted = Silenciaste a { $name }: sus textos ya no llegan al grupo.
cmd-unmuted = { $name } puede volver a escribir al grupo.

## What a neighbor agrees to on the join page, kept as evidence in the language shown

consent-sms = Acepto recibir mensajes de texto del grupo de vecinos de { $neighborhood } en este número. La frecuencia de los mensajes varía. Pueden aplicarse tarifas de mensajes y datos. Responde SALIR para salir del grupo, STOP para dejar de recibir textos, AYUDA para ayuda.
consent-whatsapp = Acepto recibir mensajes del grupo de vecinos de { $neighborhood } por WhatsApp en este número. La frecuencia de los mensajes varía. Pueden aplicarse tarifas de datos. Responde SALIR para salir del grupo, STOP para dejar de recibir mensajes, AYUDA para ayuda.

## The join page (/join/{slug}): on a page, accents cost nothing.

page-join-language = Idioma
page-join-loading = Cargando…
page-join-sandbox-banner = Sandbox: no se envían textos de verdad. Las claves y los textos llegan a los teléfonos simulados.
page-join-simulated-phones = teléfonos simulados
page-join-new-tab = (se abre en una pestaña nueva)
page-join-not-found-title = Vecindario no encontrado
page-join-not-found = No encontramos este vecindario
page-join-not-found-body = Puede que el enlace esté mal escrito o sea antiguo. Compáralo con el que te enviaron, o pide el enlace de nuevo al vecino que lo compartió.
page-join-not-found-hint = Si el número de un vecindario te escribió, también puedes responder UNIRME y tu nombre a ese número.
page-join-closed-title = Vecindario cerrado
page-join-closed = Este vecindario está cerrado
page-join-failed-title = No se pudo cargar
page-join-failed = No pudimos cargar esta página
page-join-try-again = Intentar de nuevo
page-join-policy-approval = Un capitán revisa cada solicitud antes de dejar entrar a alguien.
page-join-policy-open = Entras en cuanto confirmes tu teléfono.
page-join-policy-invite-only = Este grupo acepta nuevos miembros por invitación personal.
page-join-invited = Te invitaron: pide entrar con el número de teléfono al que llegó tu invitación.
page-join-kicker = Grupo de texto del vecindario
page-join-title = Unirte a {$neighborhood}
page-join-intro = Todos escriben a un solo número, {$number}, y cada texto llega a todo el grupo, firmado con el nombre de quien lo envía. No hace falta ninguna app: sirve cualquier teléfono que envíe textos.
page-join-details = Tus datos
page-join-step-1 = Paso 1 de 2
page-join-step-2 = Paso 2 de 2
page-join-how = Cómo unirte
page-join-invite-only = Este vecindario acepta nuevos miembros solo por invitación. Pide a un capitán un enlace de invitación personal: te llega por texto y te trae de vuelta aquí.
page-join-name = Tu nombre
page-join-name-hint = Los vecinos lo ven en tus textos, por ejemplo “Ana R.”
page-join-phone = Número de celular
page-join-phone-hint = Tu propio celular, con su código de área. Te enviamos una clave de 6 dígitos por texto.
page-join-phone-hint-whatsapp = Tu propio celular, con su código de área. Te enviamos una clave de 6 dígitos, por texto o por WhatsApp según elijas abajo.
page-join-address = Dirección
page-join-address-hint = Opcional. Solo la ven los capitanes.
page-join-optional = Opcional.
page-join-channel = Cómo recibes los mensajes del grupo
page-join-channel-sms = Mensajes de texto (SMS)
page-join-channel-sms-hint = Cualquier teléfono que envíe textos. Los mensajes llegan desde {$number}.
page-join-channel-whatsapp = WhatsApp
page-join-channel-whatsapp-hint = En la app de WhatsApp. Los mensajes llegan desde {$number} por WhatsApp, y tu clave también.
page-join-required = Los campos marcados con * son obligatorios.
page-join-send-code = Envíame una clave
page-join-send-code-whatsapp = Envíame una clave por WhatsApp
page-join-fix-one = Corrige el campo marcado abajo.
page-join-fix-many = Corrige los {$count} campos marcados abajo.
page-join-enter-phone = Escribe tu número de celular.
page-join-confirm-title = Confirma tu teléfono
page-join-code = Clave de 6 dígitos
page-join-code-hint = La clave vence en 10 minutos.
page-join-code-hint-whatsapp = Llega por WhatsApp, desde el número de WhatsApp del vecindario. La clave vence en 10 minutos.
page-join-confirm = Confirmar
page-join-resend = Envíame otra clave
page-join-resend-whatsapp = Envíame otra clave
page-join-change = Cambiar mis datos
page-join-wrong-number = ¿Número equivocado?
page-join-code-sent = Escribe la clave que enviamos por texto al {$phone}.
page-join-code-sent-whatsapp = Escribe la clave que enviamos por WhatsApp al {$phone}.
page-join-code-sandbox = Sandbox: no se envía ningún mensaje de verdad. La clave llega al teléfono simulado {$phone} en
page-join-code-sandbox-whatsapp = Sandbox: no se envía ningún mensaje de verdad. La clave llega al WhatsApp simulado {$phone} en
page-join-enter-code = Escribe la clave del mensaje.
page-join-enter-code-field = Escribe los 6 dígitos del mensaje que te enviamos.
page-join-resent = Enviamos otra clave por texto al {$phone}. Usa la más reciente.
page-join-resent-whatsapp = Enviamos otra clave por WhatsApp al {$phone}. Usa la más reciente.
page-join-in-title = Ya estás dentro
page-join-sent-title = Solicitud enviada
page-join-in = ¡Ya estás dentro, {$name}!
page-join-in-next = Tu texto de bienvenida va en camino. Desde ahora, lo que escribas a este número llega a todo el grupo.
page-join-in-next-whatsapp = Tu bienvenida te espera en WhatsApp. Desde ahora, lo que escribas al número de WhatsApp del grupo llega a todo el grupo.
page-join-pending = Gracias, {$name}: tu teléfono está confirmado
page-join-pending-next = Un capitán revisará tu solicitud. Cuando te deje entrar, recibirás un texto de bienvenida desde el número del grupo, y desde entonces lo que escribas a ese número llegará a todo el grupo.
page-join-pending-next-whatsapp = Un capitán revisará tu solicitud. Cuando te deje entrar, tu bienvenida te esperará en WhatsApp, y desde entonces lo que escribas al número de WhatsApp del grupo llegará a todo el grupo.
page-join-request = Tu solicitud
page-join-next = Qué sigue
page-join-tip-number = El número al que escribir:
page-join-tip-save = . Guárdalo en tus contactos como “{$neighborhood}”.
page-join-tip-leave = Escribe SALIR a ese número para salir del grupo cuando quieras.
page-join-tip-stop = Escribe STOP para dejar de recibir textos de este servicio, o AYUDA para ayuda.
page-join-tip-whatsapp-number = El número de WhatsApp del grupo:
page-join-opens-whatsapp = (abre WhatsApp)
page-join-tip-read-in = WhatsApp te avisa que hay mensajes nuevos en el grupo: responde LEER para leerlos. Si pasas un día sin escribir al grupo, vuelves a recibir ese aviso en lugar de cada mensaje.
page-join-tip-read-pending = Cuando estés dentro, WhatsApp te avisará que hay mensajes nuevos en el grupo: responde LEER para leerlos. Si pasas un día sin escribir al grupo, vuelves a recibir ese aviso en lugar de cada mensaje.
page-join-tip-whatsapp-leave = Escribe SALIR a ese número para salir del grupo cuando quieras, STOP para dejar de recibir mensajes, o AYUDA para ayuda.
page-join-done-sandbox = Sandbox: los textos de este teléfono aparecen en

## The catch-up page (/history/{id}/{code})

page-history-title = Resumen de {$neighborhood}
page-history-intro = Los últimos mensajes del grupo, del más antiguo al más reciente. Este enlace funciona una sola vez: deja esta página abierta mientras lees.
page-history-list = Últimos mensajes, del más antiguo al más reciente
page-history-photo = Foto de {$name}
page-history-after = Los mensajes nuevos llegan por texto, como el resto del grupo.
page-history-gone-title = El enlace ya no abre
page-history-gone = Este enlace ya no abre

## The join endpoints' answers (the join page shows them): shown on the web, never sent as SMS,
## so written with every accent.

input-name-blank = Escribe un nombre que verán tus vecinos.
input-name-too-long = Un nombre tiene como máximo { $max } caracteres.
input-name-one-line = Un nombre es una sola línea de texto.
input-name-invisible = Un nombre no puede tener caracteres invisibles (de ancho cero, marcas de dirección o similares).
input-address-too-long = Una dirección tiene como máximo { $max } caracteres.
input-phone-invalid = `{ $phone }` no es un número de teléfono al que podamos escribir.
input-language-unknown = `{ $tag }` no es uno de los idiomas en que escribimos: { $languages }.
input-answer-unknown = Este vecindario no hace esa pregunta.
input-answer-missing = Responde «{ $question }» para pedir unirte.
input-answer-too-long = Una respuesta tiene como máximo { $max } caracteres.
input-consent = Acepta recibir los textos del grupo para unirte.
api-invalid-field = `{ $field }` no es válido: { $message }
api-invalid-fields = Hay { $count } campos que no son válidos; mira los detalles.
api-join-code-sent = Te enviamos por texto una clave de 6 dígitos: escríbela para confirmar tu teléfono.
api-join-code-sent-whatsapp = Te enviamos por WhatsApp una clave de 6 dígitos: escríbela para confirmar tu teléfono.
api-join-pending = Tu teléfono está confirmado. Un capitán verá tu solicitud; te escribiremos cuando estés dentro.
api-join-approved = Ya estás dentro: lo que escribas al número del vecindario llega a todo el grupo.
api-join-denied = Un capitán rechazó esta solicitud.
api-join-code-wrong = Esa clave es incorrecta, venció o ya se usó. Pide unirte de nuevo para recibir otra.
api-join-already-member = Este teléfono ya está en el grupo.
api-join-paused = Este teléfono está en pausa en el grupo: un capitán puede reactivarlo.
api-join-blocked = Este teléfono no puede pedir unirse a este vecindario.
api-join-changed = La solicitud cambió mientras tanto; inténtalo de nuevo.
api-join-no-whatsapp = Este vecindario acepta solicitudes en la web solo por SMS; para estar en él por WhatsApp, escribe UNIRME y tu nombre a su número de WhatsApp, o pídeselo a un capitán.
api-join-texts-paused = Este vecindario no puede enviar más claves hoy. Inténtalo mañana, o pide a un vecino del grupo que avise a un capitán.
api-country-refused = Solo podemos escribir a números de { $countries }. Usa un número de allí.
api-country-us = EE. UU.
api-country-ca = Canadá
api-countries-or = { $first } o { $last }
api-invite-only = Este vecindario acepta nuevos miembros solo por invitación: pide a un capitán un enlace de invitación personal.
api-neighborhood-closed = Este vecindario está archivado: no acepta nuevos miembros y ya no puede cambiar.
api-rate-limited = Demasiados intentos; espera { $seconds } s e inténtalo de nuevo.
api-store-unavailable = No podemos llegar a la base de datos; inténtalo de nuevo en un momento.
api-store-full = La base de datos está llena y no acepta cambios por ahora; no se cambió nada. Inténtalo más tarde.
api-internal = Error interno.
