;;; emacs_eglot.el --- eglot against the real treellama server, in batch Emacs -*- lexical-binding: t -*-

;; Configured exactly as editors/README.md tells Emacs users (an `eglot-server-programs'
;; entry with initializationOptions), then: go to a definition in another file through xref,
;; list the code actions at a function, and ask for completions at point.  Writes what it saw
;; as JSON to TREELLAMA_TEST_RESULT; the assertions live in tests/editors/test_emacs.py.

(require 'eglot)
(require 'json)
(require 'xref)

(defvar treellama-test-result nil)

(defun treellama-test-note (key value)
  (push (cons key value) treellama-test-result))

(defun treellama-test-wait (predicate seconds)
  "Run the event loop until PREDICATE is true or SECONDS pass; return its last value."
  (let ((deadline (+ (float-time) seconds))
        (value nil))
    (while (and (not (setq value (ignore-errors (funcall predicate))))
                (< (float-time) deadline))
      (accept-process-output nil 0.2))
    value))

(setq eglot-server-programs
      `((python-mode . (,@(split-string (getenv "TREELLAMA_SERVER_CMD"))
                        :initializationOptions (:treellama (:completion (:maxLines 4)))))))

(condition-case err
    (progn
      (find-file (getenv "TREELLAMA_TEST_FILE"))
      (python-mode)
      (apply #'eglot (eglot--guess-contact))
      (treellama-test-note 'connected
                           (and (treellama-test-wait #'eglot-current-server 60) t))

      ;; Definition in another file, through xref (what M-. does).
      (goto-char (point-min))
      (search-forward "price = apply_discount")
      (backward-char 3)
      (let* ((backend (xref-find-backend))
             (identifier (xref-backend-identifier-at-point backend))
             (definitions
              (treellama-test-wait
               (lambda () (xref-backend-definitions backend identifier)) 60)))
        (treellama-test-note
         'definitions
         (vconcat (mapcar (lambda (item)
                            (let ((location (xref-item-location item)))
                              (format "%s:%d" (xref-location-group location)
                                      (xref-location-line location))))
                          definitions))))

      ;; Code actions on a function (what M-x eglot-code-actions lists).
      (goto-char (point-min))
      (search-forward "def tax_share")
      (treellama-test-note
       'actions
       (vconcat (mapcar (lambda (action) (plist-get action :title))
                        (eglot-code-actions (line-beginning-position) (line-end-position)))))

      ;; Completion at point (what completion-at-point shows): treellama's one AI item.
      (goto-char (point-max))
      (insert "\n\ndef average_price(items):\n    ")
      ;; Asked again until the model has loaded: until then the list is empty (incomplete).
      (treellama-test-note
       'completions
       (vconcat (treellama-test-wait
                 (lambda ()
                   (or (all-completions "" (nth 2 (eglot-completion-at-point)))
                       (progn (sleep-for 1) nil)))
                 120))))
  (error (treellama-test-note 'error (error-message-string err))))

(with-temp-file (getenv "TREELLAMA_TEST_RESULT")
  (insert (json-encode treellama-test-result)))
(kill-emacs 0)
